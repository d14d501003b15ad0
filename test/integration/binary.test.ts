import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { collect, isolatedCopy, pathWithoutNode, repoRoot } from '../helpers/cli.ts';
import { startImageServer } from '../helpers/image-server.ts';

// The single binary, copied alone to an empty directory and run with no Node on PATH.
let binary = '';
beforeAll(() => {
  binary = isolatedCopy('dist/crew');
});

const run = (args: string[], env: Record<string, string>, cwd = repoRoot) =>
  collect(
    spawn(binary, args, {
      cwd,
      env: { PATH: pathWithoutNode, NO_COLOR: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
const fresh = (prefix: string) => mkdtemp(join(tmpdir(), prefix));

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

  it('survives several first runs racing to fill an empty cache', async () => {
    const cache = await fresh('crew-xdg-');
    const env = { XDG_CACHE_HOME: cache, HOME: cache };
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => run(['sum', '1e7', '--runtime', 'process', '--json'], env)),
    );
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ result: '49999995000000' });
    }
    const entries = await readdir(join(cache, 'crew'));
    expect(entries.filter((e) => !e.startsWith('.tmp-'))).toHaveLength(1);
    expect(entries.filter((e) => e.startsWith('.tmp-'))).toEqual([]);
  });
});
