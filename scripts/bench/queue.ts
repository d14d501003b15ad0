/**
 * The `queue` section: the same commands on the local pool (2 processes) and through the
 * Postgres queue (a coordinator and 2 `crew worker` processes of 1 worker each, all on this
 * machine, on a fresh embedded Postgres), side by side: the ~800 MB logstats set, sum 1e10,
 * and download-csv of 3000 x 20 KB images from a loopback server. Also the fixed cost of a
 * queued run and the tasks per second the queue sustains when tasks are tiny.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPostgres } from '../local-postgres.ts';
import type { BenchContext, BenchSection } from './section.ts';
import { fixed, markdownTable, measure, median, type Measured } from './measure.ts';

interface Pair {
  readonly work: string;
  readonly tasks: number;
  readonly localMs: number;
  readonly queueMs: number;
  readonly same: boolean;
  readonly target: number;
}

/** The --json answer without timings, to compare a queued run with a local one. */
const answer = (r: Measured): string =>
  JSON.stringify(
    JSON.parse(r.stdout, (key, value: unknown) =>
      ['ms', 'startupMs', 'additionsPerSecond', 'out'].includes(key) ? undefined : value,
    ),
  );

export async function benchQueue(context: BenchContext): Promise<BenchSection> {
  const runs = context.quick ? 1 : 3;
  const crew = context.crew;
  const logs = join(context.scratch, context.quick ? 'logs-quick' : 'logs');
  if (!existsSync(join(logs, '.expected.json'))) {
    context.log(`queue: generating ${logs} (seeded, as the logstats section does)`);
    const lines = context.quick ? 60_000 : 620_000;
    execFileSync(
      process.execPath,
      [join(context.root, 'scripts/gen-logs.ts'), '--out', logs, '--lines', String(lines)].concat([
        '--ips',
        String(lines * 4),
      ]),
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  execFileSync('sh', ['-c', `cat '${logs}'/*.log > /dev/null`]);

  context.log('queue: starting Postgres and 2 workers');
  const postgres = await startPostgres();
  const env = { CREW_QUEUE: postgres.url };
  const workers: ChildProcess[] = [];
  for (let i = 0; i < 2; i++) {
    const child = spawn(
      crew[0]!,
      [...crew.slice(1), 'worker', '-w', '1', '--allow-dir', context.scratch],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let said = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (said += text));
    while (!said.includes('serving')) await sleep(50);
    child.stderr.resume();
    workers.push(child);
  }

  const server = await imageServer(20 * 1024);
  const dir = join(context.scratch, 'queue-download');
  await mkdir(dir, { recursive: true });
  const rows = context.quick ? 300 : 3000;
  const csv = Array.from({ length: rows }, (_, i) => `img${i},${server.url}/img/${i}.png`);
  await writeFile(join(dir, 'list.csv'), `${csv.join('\n')}\n`);

  const pairs: Pair[] = [];
  const runOnce = async (argv: string[], queued: boolean, before?: () => Promise<void>) => {
    await before?.();
    const run = await measure(crew[0]!, [...crew.slice(1), ...argv, '--json', '--quiet'], {
      env: queued ? env : { CREW_QUEUE: '' },
    });
    if (run.code !== 0) throw new Error(`${argv.join(' ')} exited ${run.code}: ${run.stderr}`);
    return run;
  };
  const side = async (argv: string[], queued: boolean) => {
    const all = [];
    for (let i = 0; i < runs; i++) all.push(await runOnce(argv, queued));
    return { ms: median(all.map((r) => r.wallMs)), last: all.at(-1)! };
  };
  const compare = async (
    work: string,
    tasks: number,
    target: number,
    argv: string[],
    before?: () => Promise<void>,
  ): Promise<void> => {
    context.log(`queue: ${work}`);
    // Alternated run by run, so both sides see the same machine (it is shared and noisy).
    // The coordinator's --runtime only names the workers' in its report: the same on both.
    const args = [...argv, '--runtime', 'process'];
    const local: Measured[] = [];
    const queue: Measured[] = [];
    for (let i = 0; i < runs; i++) {
      local.push(await runOnce(args, false, before));
      queue.push(await runOnce(args, true, before));
    }
    pairs.push({
      work,
      tasks,
      localMs: median(local.map((r) => r.wallMs)),
      queueMs: median(queue.map((r) => r.wallMs)),
      same: answer(local.at(-1)!) === answer(queue.at(-1)!),
      target,
    });
  };

  try {
    await compare('logstats, ~800 MB in 8 files', 8, 1.25, ['logstats', logs, '-w', '2']);
    await compare('sum 1e10', 2, 1.25, ['sum', '1e10', '-w', '2']);
    const out = join(dir, 'out');
    await compare(
      `download-csv, ${rows} x 20 KB`,
      rows,
      1.5,
      ['download-csv', join(dir, 'list.csv'), '--out', out, '-w', '2', '--per-host', '64'],
      () => rm(out, { recursive: true, force: true }),
    );
    await compare('sum 1000 (the fixed cost of a run)', 2, Infinity, ['sum', '1000', '-w', '2']);
    // Tiny tasks: what the queue itself sustains (64 KB ranges of the first log file).
    const first = readdirSync(logs)
      .filter((f) => f.endsWith('.log'))
      .sort()[0]!;
    const tiny = await side(['logstats', join(logs, first), '--split-size', '64K'], true);
    const ranges = (JSON.parse(tiny.last.stdout) as { files: { ranges: number }[] }).files[0]!
      .ranges;
    pairs.push({
      work: `logstats in ${ranges} ranges of 64 KB (tasks/s of the queue)`,
      tasks: ranges,
      localMs: NaN,
      queueMs: tiny.ms,
      same: true,
      target: Infinity,
    });
  } finally {
    for (const worker of workers) worker.kill('SIGTERM');
    await Promise.all(workers.filter((w) => w.exitCode === null).map((w) => once(w, 'exit')));
    await server.close();
    await postgres.stop();
  }

  const table = markdownTable(
    [
      'work',
      'local pool, 2 processes',
      'queue, 2 workers',
      'queue / local',
      'target',
      'tasks/s',
      'same answer',
    ],
    pairs.map((p) => [
      p.work,
      Number.isNaN(p.localMs) ? '' : `${fixed(p.localMs / 1000, 2)} s`,
      `${fixed(p.queueMs / 1000, 2)} s`,
      Number.isNaN(p.localMs) ? '' : `${fixed(p.queueMs / p.localMs, 2)}x`,
      Number.isFinite(p.target) ? `<= ${p.target}x` : '',
      fixed(p.tasks / (p.queueMs / 1000), 0),
      p.same ? 'yes' : 'NO',
    ]),
  );
  return {
    title: 'queue: the local pool vs a Postgres queue with 2 workers',
    markdown: `${table}\n\nWall time of the whole command, median of ${runs}; the queue side is a coordinator and two \`crew worker -w 1\` processes on this machine, on embedded Postgres.`,
    data: pairs,
  };
}

/** A loopback server answering every /img/<n>.png with a distinct PNG-signed body. */
async function imageServer(size: number): Promise<{ url: string; close(): Promise<void> }> {
  const body = Buffer.alloc(size, 7);
  Buffer.from('89504e470d0a1a0a', 'hex').copy(body);
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
    res.end(body);
    void req;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
