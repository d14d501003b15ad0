/**
 * Bundles crew into dist/ with esbuild:
 *   dist/cli.js            the CLI (bin/crew.js imports it)
 *   dist/compile-cache.js  where bin/crew.js keeps V8's compile cache, loaded before the CLI
 *   dist/worker.js         the task module the pool's workers load
 *   dist/pool-child.js     what each child process of the pool loads first (the orphan guard,
 *                          then the task module)
 *   dist/entry/*.js        tinypool's worker entries, which tinypool looks for next to its own
 *                          code (now inside dist/cli.js), so dist/ runs without node_modules
 */
import { build, type Plugin } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tinypoolEntry = (name: string): string =>
  fileURLToPath(import.meta.resolve(`tinypool`).replace(/index\.js$/, `entry/${name}.js`));

/** Routes every import of `string-width` to a shim that loads it on first use. */
const lazyStringWidth: Plugin = {
  name: 'lazy-string-width',
  setup(b) {
    const shim = `${root}/scripts/shims/string-width.ts`;
    b.onResolve({ filter: /^string-width$/ }, (args) =>
      args.importer === shim ? undefined : { path: shim },
    );
  },
};

/**
 * The bundle reads no file it did not write: yargs' y18n would read locale files relative to
 * the bundle, and its package.json search would read any package.json above the current
 * directory. Both are replaced by shims that read nothing (scripts/shims/).
 */
const readNothing: Plugin = {
  name: 'read-nothing',
  setup(b) {
    const shims: Record<string, string> = {
      y18n: `${root}/scripts/shims/y18n.ts`,
      'escalade/sync': `${root}/scripts/shims/escalade-sync.ts`,
    };
    b.onResolve({ filter: /^(y18n|escalade\/sync)$/ }, (args) => ({ path: shims[args.path]! }));
  },
};

/**
 * tinypool's worker entries call process.memoryUsage() after every task, which reads
 * /proc/self/status (open, read, close, under the process's memory-map lock that every
 * other thread's page faults take too): 8-10% of a download worker's time, one task per URL.
 * Only its heapUsed is read, for a recycle limit crew never sets; V8 gives that number
 * without a system call.
 */
const heapUsedWithoutProc: Plugin = {
  name: 'heap-used-without-proc',
  setup(b) {
    const call = 'const memoryUsage = process.memoryUsage.bind(process);';
    b.onLoad({ filter: /tinypool[\\/]dist[\\/]entry[\\/](worker|process)\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(call)) {
        throw new Error(`${args.path}: tinypool changed; review the heap-used-without-proc plugin`);
      }
      const cheap =
        "import { getHeapStatistics as __crewHeap } from 'node:v8';\n" +
        'const memoryUsage = () => ({ heapUsed: __crewHeap().used_heap_size });';
      return { contents: source.replace(call, cheap), loader: 'js' };
    });
  },
};

/**
 * undici's HTTP/1 client destroys the connection on any `100 Continue` ("bad response"),
 * though crew never sends `Expect: 100-continue` and RFC 9110 (15.2) says a client must
 * parse 1xx responses it did not expect and may ignore them: every attempt at such a
 * server failed as "connection reset" where curl got the 200. Without that check a 100
 * takes the path undici already has for 102 and 103 (the handler is told, the parser skips
 * to the final response), which exchange.ts passes over. Still so in undici 8.14.1.
 */
const interimContinue: Plugin = {
  name: 'interim-continue',
  setup(b) {
    const destroy =
      /\n {4}if \(statusCode === 100\) \{\n {6}util\.destroy\(socket, new SocketError\('bad response', util\.getSocketInfo\(socket\)\)\)\n {6}return -1\n {4}\}\n/;
    b.onLoad({ filter: /undici[\\/]lib[\\/]dispatcher[\\/]client-h1\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!destroy.test(source)) {
        throw new Error(`${args.path}: undici changed; review the interim-continue plugin`);
      }
      return { contents: source.replace(destroy, '\n'), loader: 'js' };
    });
  },
};

/**
 * sharp loads its native addon in `dist/sharp.mjs`, trying paths relative to itself and then
 * node_modules; in the single binary that would search the directories above crew's cache.
 * That module becomes scripts/shims/sharp-addon.ts, which loads the addon the binary carries
 * from its checked cache, or sharp's own from node_modules outside the binary. And sharp
 * reads the versions of libvips' parts from node_modules as it starts, only to report them;
 * inside the binary it does not look.
 */
const sharpAddon: Plugin = {
  name: 'sharp-addon',
  setup(b) {
    const shim = `${root}/scripts/shims/sharp-addon.ts`;
    const loads = 'sharp = require("@img/sharp-linux-x64/sharp.node");';
    b.onLoad({ filter: /sharp[\\/]dist[\\/]sharp\.mjs$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(loads) || !source.includes('runtimePlatformArch()')) {
        throw new Error(`${args.path}: sharp changed; review the sharp-addon plugin`);
      }
      const contents =
        "import libvips from './libvips.mjs';\n" +
        `import { loadSharpAddon } from ${JSON.stringify(shim)};\n` +
        'export default loadSharpAddon(libvips.runtimePlatformArch());\n';
      return { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
    const versions = 'if (!libvipsVersion.isGlobal) {';
    b.onLoad({ filter: /sharp[\\/]dist[\\/]utility\.mjs$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(versions)) {
        throw new Error(`${args.path}: sharp changed; review the sharp-addon plugin`);
      }
      const inBinary = "process.getBuiltinModule('node:sea').isSea()";
      return {
        contents: source.replace(versions, `if (!libvipsVersion.isGlobal && !${inBinary}) {`),
        loader: 'js',
        resolveDir: dirname(args.path),
      };
    });
  },
};

await rm(`${root}/dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'src/cli.ts',
    'compile-cache': 'src/compile-cache.ts',
    worker: 'src/tasks/worker.ts',
    'pool-child': 'src/pool/child.ts',
    'entry/worker': tinypoolEntry('worker'),
    'entry/process': tinypoolEntry('process'),
  },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  // Shared and lazily imported code (undici, the commands) goes into chunk files that
  // load on first use, so a worker that only sums or counts logs does not compile them.
  splitting: true,
  // Chunks sit beside cli.js: tinypool and the task module find files next to their own.
  chunkNames: '[name]-[hash]',
  // Some dependencies are CommonJS and require() Node built-ins; give the ESM bundle a require.
  banner: {
    js: "import { createRequire as __crewCreateRequire } from 'node:module'; const require = __crewCreateRequire(import.meta.url);",
  },
  plugins: [lazyStringWidth, readNothing, heapUsedWithoutProc, interimContinue, sharpAddon],
  legalComments: 'none',
  logLevel: 'warning',
});
