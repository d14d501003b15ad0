import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, collect, spawnCrew, untilCatches } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp-dirs.ts';
import { startImageServer, type ImageServer } from '../helpers/image-server.ts';

const INSPECTOR_PORT = 9229;

/** The inodes of TCP sockets listening on `port` (any port when undefined), IPv4 or IPv6. */
function listeningSockets(port?: number): Set<string> {
  const hex = port?.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      // sl, local "ADDR:PORT", remote, state (0A is LISTEN), ..., inode tenth.
      const fields = line.trim().split(/\s+/);
      if (fields[3] !== '0A' || (hex !== undefined && !fields[1]?.endsWith(`:${hex}`))) continue;
      inodes.add(fields[9]!);
    }
  }
  return inodes;
}

/** The listening TCP sockets process `pid` holds open. */
function listeningIn(pid: number): string[] {
  const listening = listeningSockets();
  const held: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && listening.has(inode)) held.push(inode);
  }
  return held;
}

/** Whether a TCP connection to 127.0.0.1:`port` is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

let server: ImageServer;
beforeAll(async () => {
  server = await startImageServer();
});
afterAll(() => server.close());
const dirs = tempDirs();

describe('SIGUSR1 opens no inspector', () => {
  it.each([
    ['logstats', ['logstats', '-', 'samples/logs/20210322.log'], 'a - b\n'],
    ['download-csv', ['download-csv', '-'], 'url\n{server}/png\n'],
  ])(
    '%s: USR1 to crew and to its child process changes nothing, and the run completes',
    async (command, args, input) => {
      // The port is checked only if no other program holds it; crew's own sockets always.
      const portWasFree = listeningSockets(INSPECTOR_PORT).size === 0;
      const out = dirs.make('crew-usr1-');
      const extra = command === 'download-csv' ? ['--out', out, '--retries', '0'] : [];
      const child = spawnCrew([...args, ...extra, '--runtime', 'process', '-w', '1', '--json']);
      const done = collect(child, { keepStdinOpen: true, timeoutMs: 40_000 });
      try {
        child.stdin!.write(input.replace('{server}', server.url));
        await untilCatches(child.pid!, 'SIGINT');
        let workers: number[] = [];
        for (let tries = 0; workers.length === 0 && tries < 200; tries++) {
          await sleep(50);
          workers = childrenOf(child.pid!);
        }
        expect(workers.length, 'a child-process worker started').toBeGreaterThan(0);
        await sleep(300); // the worker is up, past its start
        const crew = [child.pid!, ...workers];
        for (const pid of crew) process.kill(pid, 'SIGUSR1');
        await sleep(1000); // Node's inspector opens within a few ms of the signal
        for (const pid of crew) {
          expect(() => process.kill(pid, 0), `process ${pid} is still running`).not.toThrow();
          expect(listeningIn(pid), `process ${pid} listens`).toEqual([]);
        }
        if (portWasFree) expect(await accepts(INSPECTOR_PORT)).toBe(false);
      } finally {
        child.stdin!.end();
        await done; // gone before the next test looks at the port
      }
      const run = await done;
      expect(run.stderr).not.toMatch(/Debugger listening/);
      expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
      const result = JSON.parse(run.stdout) as Record<string, unknown>;
      if (command === 'logstats') expect(result['all']).toMatchObject({ files: 2 });
      else expect(result).toMatchObject({ total: 1, ok: 1 });
    },
  );
});
