import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCrew } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp-dirs.ts';
import { startImageServer, type ImageServer } from '../helpers/image-server.ts';

/** The pids whose parent is `pid`, from /proc (the processes' own view, no ps needed). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command name: state, ppid, ...
      const [, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Running (or sleeping): neither gone nor a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until<T>(check: () => T | undefined, ms: number): Promise<T | undefined> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(50)) {
    const value = check();
    if (value !== undefined) return value;
  }
  return check();
}

let server: ImageServer;
let dir: string;
const dirs = tempDirs();
beforeAll(async () => {
  server = await startImageServer();
  dir = dirs.make('crew-orphans-');
  // ~96 MB of log lines: long enough that the child processes are busy scanning.
  writeFileSync(
    join(dir, 'big.log'),
    '10.0.0.1 - - [22/Mar/2021:10:00:00 +0000] "GET / HTTP/1.1" 200 1\n'.repeat(1_500_000),
  );
  const rows = Array.from({ length: 40 }, (_, i) => `s${i},${server.url}/slow?${i}`);
  writeFileSync(join(dir, 'slow.csv'), `name,url\n${rows.join('\n')}\n`);
});
afterAll(() => server.close());

describe('child worker processes do not outlive crew', () => {
  it.each([
    ['sum in a busy WebAssembly loop', () => ['sum', '5e12', '--runtime', 'process', '-w', '2']],
    [
      // stdin stays open, so crew is still waiting when its children have scanned their ranges
      'logstats scanning, then idle',
      () => [
        'logstats',
        join(dir, 'big.log'),
        '-',
        '--runtime',
        'process',
        '-w',
        '2',
        '--split-size',
        '1M',
      ],
    ],
    [
      'download-csv waiting on a stalled server',
      () => [
        'download-csv',
        join(dir, 'slow.csv'),
        '-o',
        join(dir, 'out'),
        '--runtime',
        'process',
        '-w',
        '2',
        '--timeout',
        '600',
      ],
    ],
  ])('%s: they stop soon after a kill -9', async (_, args) => {
    const crew = spawnCrew(args());
    const pid = crew.pid!;
    const kids = await until(() => {
      const found = childrenOf(pid);
      return found.length >= 2 ? found : undefined;
    }, 20_000);
    expect(kids).toHaveLength(2);
    await sleep(700); // let the children take their tasks
    expect(kids!.every(alive), 'children alive before the kill').toBe(true);
    crew.kill('SIGKILL');
    // The guard polls every 200 ms; the slack is for a loaded CI machine.
    const gone = await until(() => (kids!.some(alive) ? undefined : true), 5_000);
    expect(gone, `still running: ${kids!.filter(alive).join(', ')}`).toBe(true);
  });
});
