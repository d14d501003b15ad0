import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, repoRoot } from '../helpers/cli.ts';
import { spawn } from 'node:child_process';

// The bundle must run with no node_modules anywhere near it: tinypool finds its worker entries
// in dist/entry/, and the task module is dist/worker.js.
describe('dist/ copied alone', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crew-portable-'));
    // The single binary and its build files are not part of the Node layout.
    await cp(join(repoRoot, 'dist'), join(dir, 'dist'), {
      recursive: true,
      filter: (source) => !/dist[/\\](crew|crew\.sha256|sea)$/.test(source),
    });
    await cp(join(repoRoot, 'bin'), join(dir, 'bin'), { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['thread', 'process', 'inline'])('runs sum on %s', async (runtime) => {
    const child = spawn(
      process.execPath,
      ['bin/crew.js', 'sum', '1e7', '--runtime', runtime, '--json'],
      {
        cwd: dir,
        env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1' },
      },
    );
    const run = await collect(child);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ result: '49999995000000', ok: true, runtime });
  });
});
