/**
 * download-csv and host names: a name the DNS does not know (`.invalid` never resolves, no
 * network needed) fails its rows at once under one reason, not retried; a name that does
 * resolve (localhost) goes through the workers' own lookup to a real server on 127.0.0.1.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST } from '../../src/download/manifest.ts';
import { runCrew } from '../helpers/cli.ts';
import { PNG, startImageServer, type ImageServer } from '../helpers/image-server.ts';

const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
let server: ImageServer;
let dir: string;

beforeAll(async () => {
  server = await startImageServer();
  dir = await mkdtemp(join(tmpdir(), 'crew-dns-'));
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('download-csv and DNS', () => {
  it.each(['thread', 'process'])(
    'fails rows of a host that does not exist at once, grouped as such (%s workers)',
    async (runtime) => {
      const local = server.url.replace('127.0.0.1', 'localhost');
      const rows = [
        ...Array.from({ length: 6 }, (_, i) => `gone${i},http://nonexistent.invalid/${i}.png`),
        `here1,${local}/png?1`,
        `here2,${local}/png?2`,
      ];
      const out = join(dir, runtime);
      await writeFile(join(dir, 'list.csv'), `${rows.join('\n')}\n`);
      // A back-off of 60 s: a row retried even once would outlast the test.
      const run = await runCrew(
        ['download-csv', 'list.csv', '-o', out, '--retries', '5', '--backoff', '60'],
        { cwd: dir, env: { ...env, NO_COLOR: '1' }, timeoutMs: 30_000 },
      );
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/no such host \(DNS lookup found no address\): 6 rows/);
      expect(await readFile(join(out, 'here2.png'))).toEqual(PNG);
      const lines = (await readFile(join(out, MANIFEST), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { status: string; attempts: number; error?: string });
      const failed = lines.filter((line) => line.status !== 'ok');
      expect(failed).toHaveLength(6);
      for (const line of failed) {
        expect(line.attempts).toBe(1);
        expect(line.error).toBe('no such host (DNS lookup found no address)');
      }
    },
  );
});
