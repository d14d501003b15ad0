import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { collect, runCrew, spawnCrew, untilCatches } from '../helpers/cli.ts';
import { PNG } from '../helpers/image-server.ts';
import { tempDirs } from '../helpers/temp-dirs.ts';

const dirs = tempDirs();
const out = dirs.make('crew-signals-');
// 64 GiB that take no disk: a scan of it would run for many seconds past the test's limit.
const sparse = join(out, 'sparse.log');
writeFileSync(sparse, '');
truncateSync(sparse, 64 * 2 ** 30);

describe('one signal stops any command, whatever it waits on', () => {
  it.each([
    ['logstats on an idle pipe', ['logstats', '-'], 'pipe', 'SIGINT'],
    ['logstats on /dev/zero', ['logstats', '-'], '/dev/zero', 'SIGINT'],
    ['logstats on an idle pipe, SIGTERM', ['logstats', '-'], 'pipe', 'SIGTERM'],
    ['download-csv on an idle pipe', ['download-csv', '-', '-o', out], 'pipe', 'SIGINT'],
    // Inline, the scan shares crew's own thread: it must stop for Ctrl-C, not run to its end.
    [
      'logstats inline, a scan in progress',
      ['logstats', sparse, '--runtime', 'inline'],
      'pipe',
      'SIGINT',
    ],
  ] as const)('%s: exit 130 after one signal', async (_, args, input, signal) => {
    const child = spawnCrew(args, {
      stdio: [input === 'pipe' ? 'pipe' : openSync(input, 'r'), 'pipe', 'pipe'],
    });
    const done = collect(child, { keepStdinOpen: true, timeoutMs: 15_000 });
    await untilCatches(child.pid!, signal).catch((error: unknown) => {
      child.kill('SIGKILL'); // never leave it running after a failed test
      throw error;
    });
    await sleep(500); // started, and waiting on its input
    child.kill(signal);
    const run = await done;
    expect(run.signal).toBe(null);
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/^crew: interrupted/m);
  });
});

describe('a signal while crew starts', () => {
  // Crew's entry holds signals while it loads, then hands over to main()'s listeners. For a
  // moment there were none, Node stopped watching SIGINT, and one that came then was lost:
  // a sum of 1e15 ran on for hours after its Ctrl-C (2 of 8 tries at 10-100 ms).
  it('is never lost: a sum that would run for hours ends at once, whenever it came', async () => {
    for (const ms of [15, 30, 45, 60, 75, 90, 105, 120, 150, 200, 300]) {
      const child = spawnCrew(['sum', '1e15', '--runtime', 'inline']);
      const done = collect(child, { timeoutMs: 15_000 });
      await sleep(ms);
      child.kill('SIGINT');
      const run = await done;
      // Before crew's entry runs, Node's default ends the process: that is stopped too.
      expect([run.code, run.signal], `SIGINT after ${ms} ms`).toSatisfy(
        ([code, signal]: [number | null, string | null]) => code === 130 || signal === 'SIGINT',
      );
    }
  }, 120_000);
});

describe('one signal stops logstats reading an input named on the command line', () => {
  // What feeds the FIFO: a shell that opens it for writing and then writes, or sleeps.
  const writers = {
    'a FIFO whose writer never stops':
      'exec yes "1.2.3.4 - - [x] \\"GET / HTTP/1.1\\" 200 1" > "$0"',
    'a FIFO whose writer is silent': 'exec sleep 60 > "$0"',
    'a FIFO no one writes to': undefined,
    '/dev/zero': undefined,
  } as const;

  it.each(Object.keys(writers) as (keyof typeof writers)[])(
    '%s: exit 130 after one SIGINT',
    async (what) => {
      const fifo = join(out, 'named.fifo');
      let writer: ChildProcess | undefined;
      if (what !== '/dev/zero') execFileSync('mkfifo', [fifo]);
      try {
        const script = writers[what];
        if (script) writer = spawn('sh', ['-c', script, fifo], { stdio: 'ignore' });
        const child = spawnCrew(['logstats', what === '/dev/zero' ? '/dev/zero' : fifo]);
        const done = collect(child, { timeoutMs: 15_000 });
        await untilCatches(child.pid!, 'SIGINT').catch((error: unknown) => {
          child.kill('SIGKILL');
          throw error;
        });
        await sleep(500); // reading, or waiting for its writer
        child.kill('SIGINT');
        const run = await done;
        expect(run.signal).toBe(null);
        expect(run.code).toBe(130);
        expect(run.stderr).toMatch(/^crew: interrupted: 0 of 1 files had been counted$/m);
        expect(run.stderr).not.toContain('interrupted again');
      } finally {
        writer?.kill('SIGKILL');
        rmSync(fifo, { force: true });
      }
    },
  );
});

describe('SIGHUP (a closed terminal, kill -HUP)', () => {
  it('stops download-csv like SIGTERM: exit 130, and --out is left unlocked', async () => {
    const dir = dirs.make('crew-hup-');
    const child = spawnCrew(['download-csv', '-', '-o', dir]);
    const done = collect(child, { keepStdinOpen: true, timeoutMs: 15_000 });
    try {
      await untilCatches(child.pid!, 'SIGINT');
      for (let i = 0; i < 200 && !existsSync(join(dir, '.crew-lock')); i++) await sleep(25);
      expect(existsSync(join(dir, '.crew-lock'))).toBe(true);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    child.kill('SIGHUP');
    const run = await done;
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 130, signal: null });
    expect(run.stderr).toMatch(/^crew: interrupted/m);
    expect(readdirSync(dir).filter((name) => name.startsWith('.crew-'))).toEqual([]);
  });
});

describe('a signal while bodies arrive', () => {
  // A worker used to give each body its final name and then report it: a Ctrl-C between the
  // two (or while the report was on its way) rejected the row, so its file sat in --out with
  // no manifest line, and the re-run saved the row again as <name>-2 beside it.
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)(
    '%s: every file in --out has its manifest line, and a re-run adds no -2 names',
    async (signal) => {
      const rows = 64;
      const answer = (response: ServerResponse): void => {
        response.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
      };
      const held: ServerResponse[] = [];
      let bursts = true;
      const server = createServer((_, response) => {
        if (!bursts) return answer(response);
        held.push(response);
        // Every request in flight answered at once, so that many bodies land together.
        if (held.length === 16) held.splice(0).forEach(answer);
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      const dir = dirs.make('crew-burst-');
      const csv = join(dir, 'list.csv');
      const out = join(dir, 'out');
      writeFileSync(
        csv,
        Array.from({ length: rows }, (_, i) => `img${i},http://127.0.0.1:${port}/${i}`).join('\n'),
      );
      const files = (): string[] =>
        existsSync(out) ? readdirSync(out).filter((name) => /^img\d+/.test(name)) : [];
      try {
        const child = spawnCrew(['download-csv', csv, '-o', out, '-c', '16']);
        const done = collect(child, { timeoutMs: 30_000 });
        // Stopped as the first body of a burst gets its name: the others are landing then.
        while (files().length === 0 && child.exitCode === null) await sleep(0);
        child.kill(signal);
        const run = await done;
        expect(run.code).toBe(130);
        const recorded = readFileSync(join(out, 'crew-manifest.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => (JSON.parse(line) as { file: string }).file);
        expect(files().sort()).toEqual(recorded.sort());

        bursts = false;
        held.splice(0).forEach(answer);
        const again = await runCrew(['download-csv', csv, '-o', out]);
        expect(again.code).toBe(0);
        expect(files()).toHaveLength(rows);
        expect(files().filter((name) => /-\d+\.png$/.test(name))).toEqual([]);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    },
  );
});
