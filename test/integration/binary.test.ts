import { execFileSync, spawn } from 'node:child_process';
import {
  appendFile,
  chmod,
  chown,
  cp,
  mkdir,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, isolatedCopy, pathWithoutNode, removeCopy, repoRoot } from '../helpers/cli.ts';
import { startImageServer } from '../helpers/image-server.ts';
import { NOBODY, scratchDir, spawnAsNobody } from '../helpers/nobody.ts';
import { tempDirs } from '../helpers/temp-dirs.ts';

// The single binary, copied alone to an empty directory and run with no Node on PATH.
let binary = '';
beforeAll(() => {
  binary = isolatedCopy('dist/crew');
});
afterAll(() => removeCopy(binary));

const run = (args: string[], env: Record<string, string>, cwd = repoRoot) =>
  collect(
    spawn(binary, args, {
      cwd,
      env: { PATH: pathWithoutNode, NO_COLOR: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
// With a time limit: a run that hangs must fail the test, not the suite.
const collectIn = (args: string[], env: Record<string, string>, cwd: string) =>
  collect(
    spawn(binary, args, {
      cwd,
      env: { PATH: pathWithoutNode, NO_COLOR: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
    { timeoutMs: 20_000 },
  );
const dirs = tempDirs();
const fresh = (prefix: string): Promise<string> => Promise.resolve(dirs.make(prefix));
/** A scratch dir of nobody.ts's, removed after this file's tests. */
const scratch = async (...args: Parameters<typeof scratchDir>): Promise<string> =>
  dirs.removeLater(await scratchDir(...args));

describe('dist/crew, the single executable', () => {
  it('is a real executable with a matching checksum file', async () => {
    const bytes = await readFile(join(repoRoot, 'dist/crew'));
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    const sum = await readFile(join(repoRoot, 'dist/crew.sha256'), 'utf8');
    const { createHash } = await import('node:crypto');
    expect(sum).toBe(`${createHash('sha256').update(bytes).digest('hex')}  crew\n`);
  });

  it('runs every command and runtime with no node reachable', async () => {
    const cache = await fresh('crew-xdg-');
    const env = { XDG_CACHE_HOME: cache, HOME: cache };
    expect(pathWithoutNode.split(':').some((d) => d.endsWith('node_modules/.bin'))).toBe(false);
    const version = await run(['--version'], env);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await run(['--help'], env);
    expect(help.stdout).toMatch(/download-csv/);
    for (const runtime of ['thread', 'process', 'inline']) {
      const sum = await run(['sum', '1e8', '--runtime', runtime, '--json'], env);
      expect(sum.code).toBe(0);
      expect(JSON.parse(sum.stdout)).toMatchObject({ result: '4999999950000000', runtime });
    }
    const logs = await run(['logstats', 'samples/logs', '--runtime', 'process', '--json'], env);
    expect(logs.code).toBe(0);
    expect(JSON.parse(logs.stdout)).toMatchObject({ all: { files: 3, total: 1500 } });
    const server = await startImageServer();
    try {
      const out = await fresh('crew-bin-dl-');
      await writeFile(join(out, 'list.csv'), `a,${server.url}/png\nb,${server.url}/gif\n`);
      for (const runtime of ['thread', 'process']) {
        const dl = await run(
          ['download-csv', 'list.csv', '--json', '--force', '--runtime', runtime],
          { ...env, NO_PROXY: '*' },
          out,
        );
        expect(dl.code).toBe(0);
        expect(JSON.parse(dl.stdout)).toMatchObject({ total: 2, ok: 2 });
      }
      expect((await readdir(out)).sort()).toEqual(['images', 'list.csv']);
    } finally {
      await server.close();
    }
  });

  it('keeps its files in a private cache dir, reuses it, and repairs tampering', async () => {
    const cache = await fresh('crew-xdg-');
    const env = { XDG_CACHE_HOME: cache, HOME: cache };
    expect((await run(['sum', '1e6'], env)).code).toBe(0);
    const [dir] = await readdir(join(cache, 'crew'));
    expect(dir).toMatch(/^\d+\.\d+\.\d+-[0-9a-f]{16}$/);
    const path = join(cache, 'crew', dir!);
    expect((await stat(join(cache, 'crew'))).mode & 0o777).toBe(0o700);
    expect((await stat(path)).mode & 0o777).toBe(0o700);
    const cli = join(path, 'cli.js');
    const before = await readFile(cli);
    const inode = (await stat(cli)).ino;
    expect((await run(['sum', '1e6'], env)).code).toBe(0);
    expect((await stat(cli)).ino).toBe(inode); // reused, not rewritten

    await appendFile(cli, '\nprocess.stdout.write("planted\\n");\n');
    const after = await run(['sum', '1e6', '--json'], env);
    expect(after.code).toBe(0);
    expect(after.stdout).not.toMatch(/planted/);
    expect(await readFile(cli)).toEqual(before);

    // Changes a comparison a chunk at a time must still see: one byte far into the biggest
    // file (same size), and a file cut short.
    const sizes = await Promise.all(
      (await readdir(path))
        .filter((f) => f.endsWith('.js'))
        .map(async (f) => ({ f, size: (await stat(join(path, f))).size })),
    );
    const [biggest, second] = sizes.sort((a, b) => b.size - a.size);
    expect(biggest!.size).toBeGreaterThan(1024 * 1024);
    const bigPath = join(path, biggest!.f);
    const secondPath = join(path, second!.f);
    const originals = [await readFile(bigPath), await readFile(secondPath)] as const;
    const flipped = Buffer.from(originals[0]);
    flipped[flipped.length - 10] = flipped[flipped.length - 10]! ^ 1;
    await writeFile(bigPath, flipped);
    await writeFile(secondPath, originals[1].subarray(0, originals[1].length - 1));
    expect((await run(['sum', '1e6', '--json'], env)).code).toBe(0);
    expect(await readFile(bigPath)).toEqual(originals[0]);
    expect(await readFile(secondPath)).toEqual(originals[1]);
  });

  it('refuses a cache root others can write, and falls back when home is unusable', async () => {
    const cache = await fresh('crew-xdg-');
    const temp = await fresh('crew-tmp-');
    await writeFile(join(cache, 'not-a-dir'), 'x');
    // XDG cache is world-writable (could be planted), home is a file: only TMPDIR is left.
    const shared = join(cache, 'shared');
    await import('node:fs/promises').then((fs) =>
      fs.mkdir(join(shared, 'crew'), { recursive: true }),
    );
    await chmod(join(shared, 'crew'), 0o777);
    const result = await run(['sum', '1e6', '--json'], {
      XDG_CACHE_HOME: shared,
      HOME: join(cache, 'not-a-dir'),
      TMPDIR: temp,
    });
    expect(result.code).toBe(0);
    expect(await readdir(join(shared, 'crew'))).toEqual([]);
    const uid = process.getuid?.() ?? 0;
    expect((await readdir(join(temp, `crew-${uid}`))).length).toBe(1);
  });

  it('survives 16 first runs racing to fill an empty cache, and 16 racing to repair it', async () => {
    const cache = await fresh('crew-xdg-');
    const env = { XDG_CACHE_HOME: cache, HOME: cache };
    const race = () =>
      Promise.all(
        Array.from({ length: 16 }, () => run(['sum', '1e6', '--runtime', 'inline', '--json'], env)),
      );
    const check = (runs: Awaited<ReturnType<typeof race>>) => {
      for (const r of runs) {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ result: '499999500000' });
      }
    };
    check(await race());
    const entries = await readdir(join(cache, 'crew'));
    expect(entries.filter((e) => !e.startsWith('.tmp-'))).toHaveLength(1);
    expect(entries.filter((e) => e.startsWith('.tmp-'))).toEqual([]);
    // Every run now finds files to repair at once: none may take the directory from another.
    const dir = join(cache, 'crew', entries[0]!);
    await appendFile(join(dir, 'cli.js'), '\n// changed\n');
    const chunk = (await readdir(dir)).find((f) => f.startsWith('run-'))!;
    await rm(join(dir, chunk));
    check(await race());
    expect((await readdir(dir)).filter((e) => e.includes('.tmp-'))).toEqual([]);
  });
});

// Code appended to a cached file by an attacker: it leaves the uid it ran as in `marker`.
const plant = (marker: string) =>
  `\n;process.getBuiltinModule('node:fs').appendFileSync(${JSON.stringify(marker)}, process.getuid() + '\\n');\n`;

async function plantEverywhere(dir: string, marker: string): Promise<void> {
  for (const file of await readdir(dir, { recursive: true })) {
    if (file.endsWith('.js')) await appendFile(join(dir, file), plant(marker));
  }
}

describe('dist/crew with another local user about', () => {
  const uid = process.getuid?.() ?? 0;
  const runAsNobody = (args: string[], env: Record<string, string>) =>
    collect(
      spawnAsNobody(binary, args, {
        cwd: repoRoot,
        env: { PATH: pathWithoutNode, NO_COLOR: '1', ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
  beforeAll(async () => {
    await chmod(dirname(binary), 0o755); // so nobody can run it too
  });

  it('never runs code another user swaps into a cache path they can write', async () => {
    const shared = await scratch('crew-shared-', 0o777); // anyone may write, not sticky
    const own = await scratch('crew-attacker-', 0o700, 'nobody');
    expect((await runAsNobody(['sum', '1'], { XDG_CACHE_HOME: own, HOME: own })).code).toBe(0);
    const marker = join(shared, 'ran-as');
    await plantEverywhere(join(own, 'crew'), marker);
    // The attacker waits for the victim's crew/ to appear and fill, swaps theirs in for a
    // moment, then puts the victim's back so that the next run trusts it again.
    const attack = [
      'cd "$1" && cp -a "$2" copying && mv copying staged && while :; do',
      '  if [ -d crew ] && [ ! -O crew ]; then',
      '    sleep 0.05; mv crew old && mv staged crew; sleep 0.3; mv crew staged && mv old crew',
      '  fi',
      '  sleep 0.005',
      'done',
    ].join('\n');
    const attacker = spawnAsNobody('sh', ['-c', attack, 'attacker', shared, join(own, 'crew')], {
      stdio: 'ignore',
    });
    try {
      const home = await fresh('crew-home-');
      while (!(await readdir(shared)).includes('staged')) {
        await new Promise((resolve) => setTimeout(resolve, 20)); // the attacker gets ready
      }
      for (const runtime of ['process', 'thread', 'process', 'thread']) {
        const r = await run(['logstats', 'samples/logs', '--runtime', runtime, '--json'], {
          XDG_CACHE_HOME: shared,
          HOME: home,
        });
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ all: { files: 3, total: 1500 } });
      }
      expect((await readdir(join(home, '.cache', 'crew'))).length).toBe(1);
    } finally {
      attacker.kill('SIGKILL');
    }
    await expect(stat(marker)).rejects.toThrow(/ENOENT/);
    // The victim made nothing there: not even a directory for the attacker to replace.
    for (const entry of await readdir(shared)) {
      expect((await stat(join(shared, entry))).uid).toBe(NOBODY);
    }
  });

  it('refuses a cache under a directory another user owns', async () => {
    const theirs = await scratch('crew-theirs-', 0o755, 'nobody');
    const cache = join(theirs, 'cache'); // ours and private, but they can rename it
    await mkdir(cache, { mode: 0o700 });
    const home = await fresh('crew-home-');
    const r = await run(['sum', '1e6', '--json'], { XDG_CACHE_HOME: cache, HOME: home });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await readdir(cache)).toEqual([]);
    expect((await readdir(join(home, '.cache', 'crew'))).length).toBe(1);
  });

  it('fails with a clear message when no cache root is safe', async () => {
    const shared = await scratch('crew-shared-', 0o777);
    const sticky = await scratch('crew-sticky-', 0o1777);
    // Another user took the temp dir's name first.
    await mkdir(join(sticky, `crew-${uid}`));
    await chown(join(sticky, `crew-${uid}`), NOBODY, NOBODY);
    const r = await run(['sum', '1'], {
      XDG_CACHE_HOME: shared,
      HOME: 'relative-home',
      TMPDIR: sticky,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'crew: found no safe cache directory for the files it runs from:\n' +
        `  ${shared}/crew: ${shared} is writable by other users\n` +
        `  ${sticky}/crew-${uid}: ${sticky}/crew-${uid} belongs to another user (uid ${NOBODY})\n` +
        'Set XDG_CACHE_HOME to a directory that only you (or root) can write.\n',
    );
  });

  it('runs as an unprivileged user with its cache in a sticky temp dir', async () => {
    const sticky = await scratch('crew-sticky-', 0o1777);
    const r = await runAsNobody(['logstats', 'samples/logs', '--runtime', 'process', '--json'], {
      HOME: '/nonexistent',
      TMPDIR: sticky,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ all: { files: 3, total: 1500 } });
    const info = await stat(join(sticky, `crew-${NOBODY}`));
    expect([info.uid, info.mode & 0o7777]).toEqual([NOBODY, 0o700]);
  });

  it('a forked child checks the cache dir again, and loads nothing changed since', async () => {
    const cache = await fresh('crew-xdg-');
    expect((await run(['sum', '1'], { XDG_CACHE_HOME: cache, HOME: cache })).code).toBe(0);
    const [name] = await readdir(join(cache, 'crew'));
    const dir = join(cache, 'crew', name!);
    const marker = join(cache, 'ran-as');
    // What tinypool would start, after the parent checked the dir and someone changed it.
    const forkedChild = (sea: string) =>
      collect(
        spawn(binary, [], {
          env: { PATH: pathWithoutNode, CREW_SEA_DIR: sea, TINYPOOL_WORKER_ID: '1' },
          stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
        }),
        { timeoutMs: 20_000 },
      );
    await plantEverywhere(dir, marker);
    const changed = await forkedChild(dir);
    expect(changed.stderr).toMatch(/^crew: \S+ is not the file this binary carries\n$/);
    expect(changed.code).toBe(1);
    // An intact copy somewhere another user can write is refused too.
    expect((await run(['sum', '1'], { XDG_CACHE_HOME: cache, HOME: cache })).code).toBe(0);
    const shared = await scratch('crew-shared-', 0o777);
    await cp(dir, join(shared, name!), { recursive: true });
    const copied = await forkedChild(join(shared, name!));
    expect(copied.stderr).toBe(`crew: ${shared} is writable by other users\n`);
    expect(copied.code).toBe(1);
    await expect(stat(marker)).rejects.toThrow(/ENOENT/);
  });

  it('reads no file beside or above its cache, nor a package.json above the current dir', async () => {
    const sticky = await scratch('crew-plant-', 0o1777); // like /tmp: anyone may add files
    await writeFile(join(sticky, 'package.json'), '{"type":"commonjs"}\n');
    await mkdir(join(sticky, 'locales'));
    await writeFile(
      join(sticky, 'locales', 'C.json'),
      JSON.stringify({ 'Invalid values:': 'PLANTED: run /tmp/x.sh' }),
    );
    await writeFile(join(sticky, 'locales', 'en_US.json'), '{ not json');
    await mkdir(join(sticky, 'locales', 'en.json'));
    // yargs used to read the nearest package.json above the cwd: a FIFO there hung it for good.
    const cwd = join(sticky, 'work');
    await mkdir(cwd);
    execFileSync('mkfifo', [join(cwd, 'package.json')]);
    for (const LANG of ['C', 'en_US.UTF-8', 'en']) {
      const env = { XDG_CACHE_HOME: 'relative', HOME: 'relative', TMPDIR: sticky, LANG };
      const bad = await collectIn(['sum', '--runtime', 'x'], env, cwd);
      expect(bad.stderr).toMatch(/^crew: Invalid values: Argument: runtime, Given: "x"/);
      expect(bad.code).toBe(2);
      const ok = await collectIn(
        ['logstats', join(repoRoot, 'samples/logs'), '--runtime', 'process', '--json'],
        env,
        cwd,
      );
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ all: { files: 3, total: 1500 } });
    }
    expect(await readdir(sticky)).toEqual(['crew-' + uid, 'locales', 'package.json', 'work']);
  });

  it('ignores a relative XDG_CACHE_HOME, HOME or TMPDIR: never a cache in the cwd', async () => {
    const cwd = await fresh('crew-cwd-');
    const temp = await fresh('crew-tmp-');
    const cases: Record<string, string>[] = [
      { XDG_CACHE_HOME: 'cache', HOME: 'home', TMPDIR: temp },
      { XDG_CACHE_HOME: '.', HOME: '', TMPDIR: './tmp' }, // /tmp/crew-<uid>, as with no TMPDIR
    ];
    for (const env of cases) {
      const r = await run(['sum', '1e6', '--json'], env, cwd);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ result: '499999500000' });
      expect(await readdir(cwd)).toEqual([]);
    }
    expect(await readdir(temp)).toEqual([`crew-${uid}`]);
  });
});
