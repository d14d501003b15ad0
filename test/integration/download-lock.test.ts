/**
 * Two runs on one --out, with the lock's system calls slowed down by strace's fault
 * injection (as on a slow or network disk): whatever the timing, one run goes on and the
 * other is refused, and the manifest has one line per row.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, spawnCrew, spawnCrewUnder, type CrewRun } from '../helpers/cli.ts';
import { PNG } from '../helpers/image-server.ts';

const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
const ROWS = 8;
let server: Server;
let url: string;
let dir: string;

beforeAll(async () => {
  // Every image takes 3 s: a run holds its lock while the other one starts.
  server = createServer((req, res) => {
    setTimeout(() => {
      const body = Buffer.concat([PNG, Buffer.from(req.url ?? '')]);
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
      res.end(body);
    }, 3_000);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'crew-lock-race-'));
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

/** System calls on the lock (by its path) slowed by `ms`, before or after the kernel runs them. */
function slowLock(
  lock: string,
  calls: string,
  ms: number,
  when: 'delay_enter' | 'delay_exit',
): [string, ...string[]] {
  const set = `trace=${calls}`;
  return [
    'strace',
    '-f',
    '-qq',
    '-o',
    '/dev/null',
    '-P',
    lock,
    '-e',
    set,
    '-e',
    `inject=${calls}:${when}=${ms * 1000}`,
    '--',
  ];
}

async function setUp(name: string): Promise<{ out: string; csv: string }> {
  const out = join(dir, name);
  const csv = join(dir, `${name}.csv`);
  const rows = Array.from({ length: ROWS }, (_, i) => `p${i},${url}/${name}/${i}`);
  await writeFile(csv, `${rows.join('\n')}\n`);
  return { out, csv };
}

/** One run went on and downloaded every row; the other was refused; one line per row. */
async function expectOneRun(out: string, runs: CrewRun[]): Promise<void> {
  const summary = runs.map((r) => ({ code: r.code, stderr: r.stderr.trim().split('\n')[0] }));
  const ok = runs.filter((r) => r.code === 0);
  const refused = runs.filter(
    (r) => r.code === 1 && /another crew \(process \d+\) is downloading into it/.test(r.stderr),
  );
  expect({ ok: ok.length, refused: refused.length }, JSON.stringify(summary)).toEqual({
    ok: 1,
    refused: 1,
  });
  expect(JSON.parse(ok[0]!.stdout)).toMatchObject({ total: ROWS, ok: ROWS });
  const lines = (await readFile(join(out, 'crew-manifest.jsonl'), 'utf8')).trim().split('\n');
  expect(lines.length).toBe(ROWS);
  expect(existsSync(join(out, '.crew-lock'))).toBe(false);
}

describe('two runs on one --out', () => {
  it('the first run slow to put its lock in place: the second is refused', async () => {
    const { out, csv } = await setUp('slow-first');
    const args = ['download-csv', csv, '-o', out, '--json'];
    // The lock appears at once, but the first run hears so 2 s later: a second run that
    // looks in between must see a live lock (it once saw an empty one, removed it, and ran).
    const lock = join(out, '.crew-lock');
    const first = spawnCrewUnder(
      slowLock(lock, 'open,openat,link,linkat', 2_000, 'delay_exit'),
      args,
      {
        env,
      },
    );
    const firstDone = collect(first, { timeoutMs: 60_000 });
    for (let i = 0; i < 400 && !existsSync(join(out, '.crew-lock')); i++) await sleep(10);
    expect(existsSync(join(out, '.crew-lock'))).toBe(true);
    const second = await collect(spawnCrew(args, { env }), { timeoutMs: 60_000 });
    await expectOneRun(out, [await firstDone, second]);
  }, 90_000);

  it.each([
    // Removing the dead lock is slow: one run's removal can come after the other's new lock.
    ['removing', 'unlink,unlinkat'],
    // Linking a lock into place is slow (strace's -P does not match a rename's target, so
    // the rename over a dead lock runs at full speed).
    ['linking', 'link,linkat'],
  ])(
    "two runs taking over a dead run's lock at once, %s slowed: one gets it",
    async (name, calls) => {
      const { out, csv } = await setUp(`takeover-${name}`);
      const args = ['download-csv', csv, '-o', out, '--json'];
      const dead = spawn('true');
      await once(dead, 'exit');
      await mkdir(out);
      await writeFile(join(out, '.crew-lock'), `${dead.pid}\n`);
      // Both read the dead lock; those steps then wait 1 s in one run and 2 s in the other.
      const lock = join(out, '.crew-lock');
      const runs = await Promise.all(
        [1_000, 2_000].map((ms) =>
          collect(spawnCrewUnder(slowLock(lock, calls, ms, 'delay_enter'), args, { env }), {
            timeoutMs: 60_000,
          }),
        ),
      );
      await expectOneRun(out, runs);
    },
    90_000,
  );
});
