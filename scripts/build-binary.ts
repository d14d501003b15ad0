/**
 * Builds the single executable `dist/crew` with Node's Single Executable Applications:
 *   1. the loader (src/sea/main.ts) is bundled to CommonJS, the form SEA runs;
 *   2. dist/cli.js, dist/worker.js and tinypool's entries (from `npm run build`) become SEA
 *      assets, with an index of their sha256 that the loader verifies its cache against, and
 *      a package.json of `"type": "module"`: Node looks for the nearest package.json to learn
 *      how to load a .js file, and without one in the cache dir it would read any planted
 *      further up (a `/tmp/package.json` saying "commonjs" broke every run);
 *   3. `node --experimental-sea-config` writes the blob, and postject injects it into a copy
 *      of the pinned Node 24 binary (the `node` devDependency): everything from npm, offline.
 * Writes dist/crew and dist/crew.sha256.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { inject } from 'postject';
import pkg from '../package.json' with { type: 'json' };

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const work = join(dist, 'sea');
await mkdir(work, { recursive: true });

await build({
  absWorkingDir: root,
  entryPoints: ['src/sea/main.ts'],
  outfile: join(work, 'main.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  logLevel: 'warning',
});

// Every JavaScript file of the bundle: the entries and the chunks they load on demand.
const files = (await readdir(dist, { recursive: true }))
  .filter((f) => f.endsWith('.js') && !f.startsWith('sea'))
  .map((f) => f.split(sep).join('/'))
  .sort();
const sources: Record<string, string> = Object.fromEntries(files.map((f) => [f, join(dist, f)]));
sources['package.json'] = join(work, 'package.json');
await writeFile(sources['package.json'], `${JSON.stringify({ type: 'module' })}\n`);
const hashes: Record<string, string> = {};
for (const [name, source] of Object.entries(sources)) {
  hashes[name] = createHash('sha256')
    .update(await readFile(source))
    .digest('hex');
}
const combined = createHash('sha256').update(JSON.stringify(hashes)).digest('hex').slice(0, 16);
await writeFile(
  join(work, 'index.json'),
  JSON.stringify({ version: pkg.version, dir: `${pkg.version}-${combined}`, files: hashes }),
);

// The blob must come from the very Node binary it is injected into.
const node = await realpath(process.execPath);
const blob = join(work, 'crew.blob');
await writeFile(
  join(work, 'sea-config.json'),
  JSON.stringify(
    {
      main: join(work, 'main.cjs'),
      output: blob,
      disableExperimentalSEAWarning: true,
      // V8 code cache for the loader; the CLI it loads uses Node's compile cache instead.
      useCodeCache: true,
      // A young generation of 4 MB semi-spaces (V8 sizes them up to 16 MB on a machine with
      // this much memory) in every V8 heap: the parent and each worker. A download of a
      // million rows peaked at 613 MiB with the default, most of it young-generation and
      // promoted garbage of three heaps; no command ran slower with it (see
      // docs/bench-notes/2026-12-01-download-fast-server.md).
      // An old generation of at most 1 GB per heap (V8's default here is 4 GB): V8 lets a
      // heap grow to up to 4x what was live after a full collection when its limit is 2 GB or
      // more, and to 1.6x at 1 GB. A million failing rows peaked at 296 -> 219 MiB, the same
      // speed; crew's big tables are typed arrays, outside this limit. NODE_OPTIONS can
      // raise it again (docs/bench-notes/2026-12-02-download-memory.md).
      // --disable-sigusr1: SIGUSR1 (which log-rotation scripts send) would otherwise open
      // Node's inspector on 127.0.0.1:9229, and any local user could then run code inside
      // crew. The children tinypool forks are this binary too, so they start with it as well.
      execArgv: ['--max-semi-space-size=4', '--max-old-space-size=1024', '--disable-sigusr1'],
      assets: {
        'index.json': join(work, 'index.json'),
        ...sources,
      },
    },
    null,
    2,
  ),
);
execFileSync(node, ['--experimental-sea-config', join(work, 'sea-config.json')], {
  stdio: ['ignore', 'ignore', 'inherit'],
});

const binary = join(dist, 'crew');
await copyFile(node, binary);
await chmod(binary, 0o755);
const blobBytes = await readFile(blob);
await quietly(/^warning: Can't find string offset for section name/, () =>
  inject(binary, 'NODE_SEA_BLOB', blobBytes, {
    sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  }),
);
const digest = createHash('sha256')
  .update(await readFile(binary))
  .digest('hex');
await writeFile(join(dist, 'crew.sha256'), `${digest}  crew\n`);
process.stderr.write(
  `build-binary: wrote dist/crew (${node.replace(root, '')}, sha256 ${digest.slice(0, 12)}…)\n`,
);

/**
 * Runs `work` with console.warn lines matching `noise` dropped. postject's ELF reader (LIEF,
 * compiled to WebAssembly, printing through console.warn) warns about the official Node
 * binary's unnamed note sections on every build; the injected binary is fine, and a build log
 * that always warns teaches people to ignore warnings.
 */
async function quietly<T>(noise: RegExp, work: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!noise.test(String(args[0]))) warn(...args);
  };
  try {
    return await work();
  } finally {
    console.warn = warn;
  }
}
