/**
 * The queue as an attacker and an unlucky operator meet it, on a real Postgres: rows written
 * straight into the job table, workers killed or frozen in the middle of a body, the
 * database restarted under a streamed download, a coordinator killed with -9, Ctrl-C, no
 * worker at all. Nothing outside a worker's --allow-dir changes, nothing reported done is
 * lost, and nothing lands after its run stopped.
 */
import { randomUUID } from 'node:crypto';
import { type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { startPostgres, type LocalPostgres } from '../../scripts/local-postgres.ts';
import {
  decodeJob,
  decodeOutcomes,
  encodeJob,
  encodeOutcomes,
  QUEUE,
  type QueueTask,
} from '../../src/pool/queue/wire.ts';
import { collect, runCrew, spawnCrew, untilCatches, type CrewOptions } from '../helpers/cli.ts';
import { startImageServer, type ImageServer } from '../helpers/image-server.ts';
import type { FetchInput, FetchOptions } from '../../src/download/fetch.ts';
import type { RangeResult } from '../../src/logstats/read.ts';
import type { Range } from '../../src/sum/plan.ts';
import { taskNamed } from '../../src/tasks/registry.ts';

// No proxy may stand between crew and the loopback image server.
const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };

let postgres: LocalPostgres;
let server: ImageServer;
let work: string;
let allowed: string;
let boss: PgBoss;

interface Worker {
  readonly child: ChildProcess;
  stderr: string;
}
const workers: Worker[] = [];

function startWorker(extra: string[] = []): Worker {
  const child = spawnCrew(['worker', '-w', '1', '--allow-dir', allowed, ...extra], {
    env: { ...env, CREW_QUEUE: postgres.url },
  });
  const worker = { child, stderr: '' };
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (worker.stderr += text));
  child.stdout?.resume();
  workers.push(worker);
  return worker;
}

async function serving(worker: Worker): Promise<void> {
  while (!worker.stderr.includes('serving')) await sleep(50);
}

async function stopWorkers(): Promise<void> {
  for (const { child } of workers.splice(0)) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    if (child.exitCode === null) await once(child, 'exit');
  }
}

const queued = (args: string[], options: CrewOptions = {}) =>
  runCrew(args, { ...options, env: { ...env, CREW_QUEUE: postgres.url, ...options.env } });

/** A row written into the queue by whoever can reach the database, for a run that beats. */
async function forge(tasks: readonly QueueTask[], version = pkg.version): Promise<unknown> {
  const run = randomUUID();
  await boss.getDb().executeSql('INSERT INTO crew.runs (id) VALUES ($1)', [run]);
  const id = (await boss.send(QUEUE, encodeJob(run, version, tasks)))!;
  for (let i = 0; i < 200; i++) {
    const job = await boss.getJobById(QUEUE, id);
    if (job?.state === 'completed') return job.output;
    await sleep(50);
  }
  throw new Error('the forged job was never completed');
}

async function countJobs(where: string): Promise<number> {
  const { rows } = await boss
    .getDb()
    .executeSql(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND ${where}`, [QUEUE]);
  return (rows[0] as { n: number }).n;
}

async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

beforeAll(async () => {
  postgres = await startPostgres();
  server = await startImageServer();
  work = await mkdtemp(join(tmpdir(), 'crew-hardened-'));
  allowed = join(work, 'allowed');
  await mkdir(allowed);
  // The first worker creates pg-boss's schema and crew's tables.
  await serving(startWorker());
  boss = new PgBoss({ connectionString: postgres.url, supervise: false, schedule: false });
  boss.on('error', () => undefined); // the restart test drops its connections too
  await boss.start();
}, 120_000);

afterAll(async () => {
  await stopWorkers();
  await boss?.stop({ graceful: false });
  await server?.close();
  await postgres?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a queue row can never write where it should not', () => {
  it('refuses rows that write outside --allow-dir, name a file, or read outside --allow-read', async () => {
    const victim = join(work, 'victim');
    await mkdir(join(victim, '.crew-aabbccdd'), { recursive: true });
    await writeFile(join(victim, 'authorized_keys'), 'ssh-ed25519 AAAA the owner\n');
    await symlink(victim, join(allowed, 'link'));
    await mkdir(join(allowed, 'out', '.crew-aabbccdd'), { recursive: true });
    const before = await tree(victim);
    const download = {
      url: `${server.url}/png`,
      headers: {},
      visited: [],
      options: {
        retries: 0,
        timeoutMs: 5000,
        maxTimeMs: 5000,
        maxBytes: 1_000_000,
        perHost: 4,
        headers: {},
        locationTrusted: false,
        anyType: true,
        backoffMs: 0,
        stacks: false,
        http: 'auto',
        // Typed: a new download option is a compile error here, not a refusal to read past.
      } satisfies FetchOptions,
    };
    const inside = join(allowed, 'out', '.crew-aabbccdd');
    const rows: [string, unknown, string][] = [
      ['downloadUrl', { ...download, tempFolder: join(victim, '.crew-aabbccdd') }, 'allow-dir'],
      [
        'downloadUrl',
        { ...download, tempFolder: join(allowed, 'link', '.crew-aabbccdd') },
        'allow-dir',
      ],
      [
        'downloadUrl',
        {
          ...download,
          tempFolder: inside,
          // No worker names a file: the run that keeps the manifest does.
          place: { folder: victim, stem: 'authorized_keys', ext: null },
        },
        'unexpected field "place"',
      ],
      [
        'downloadUrl',
        { ...download, tempFolder: `${inside}/../../../victim/.crew-aabbccdd` },
        'crew temp folder',
      ],
      ['sumRange', { start: 2n ** 100n, end: 2n ** 100n + 10n }, '64-bit'],
    ];
    for (const [name, input, why] of rows) {
      const [outcome] = decodeOutcomes(await forge([{ name, input }]), 1);
      expect(outcome).toMatchObject({ ok: false });
      expect((outcome as { error: string }).error).toContain(why);
    }
    // A worker of another version runs none of its tasks.
    const [old] = decodeOutcomes(
      await forge([{ name: 'sumRange', input: { start: 0n, end: 10n } }], '0.0.1'),
      1,
    );
    expect(old).toEqual({
      ok: false,
      error: `refused task sumRange: this worker runs crew ${pkg.version}, the run is crew 0.0.1`,
    });
    expect(server.hits.get('/png')).toBeUndefined();
    expect(await tree(victim)).toEqual(before);
    expect(await readFile(join(victim, 'authorized_keys'), 'utf8')).toBe(
      'ssh-ed25519 AAAA the owner\n',
    );
    expect(workers[0]!.stderr).toMatch(/refused a task downloadUrl: "tempFolder" is not inside/);
  });

  it('reads only inside --allow-read when a worker was given one', async () => {
    const logs = join(work, 'logs');
    await mkdir(logs);
    await writeFile(
      join(logs, 'a.log'),
      '1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1\n',
    );
    const reader = startWorker(['--allow-read', allowed]);
    await serving(reader);
    try {
      // Only the reader runs this one: the first worker, which may read anything, is held still.
      workers[0]!.child.kill('SIGSTOP');
      const [outcome] = decodeOutcomes(
        await forge([
          {
            name: 'logstatsRange',
            input: {
              range: { file: 0, path: join(logs, 'a.log'), start: 0, end: 100, gzip: false },
              top: false,
            },
          },
        ]),
        1,
      );
      expect(outcome).toMatchObject({ ok: false });
      expect((outcome as { error: string }).error).toContain('--allow-read');
    } finally {
      workers[0]!.child.kill('SIGCONT');
      workers.splice(workers.indexOf(reader), 1);
      reader.child.kill('SIGKILL');
    }
  });

  it('survives a job of a thousand tasks and one of 9 MB, and serves the next run', async () => {
    const worker = workers[0]!;
    const many = Array.from({ length: 1000 }, () => ({
      name: 'sumRange',
      input: { start: 0n, end: 10n },
    }));
    expect(decodeOutcomes(await forge(many), 0)).toEqual([]);
    const big = [
      { name: 'sumRange', input: { start: 0n, end: 10n, pad: 'x'.repeat(9 * 2 ** 20) } },
    ];
    expect(decodeOutcomes(await forge(big), 0)).toEqual([]);
    expect(worker.stderr).toContain('dropped 1 job: not a crew job: 1000 tasks (at most 64)');
    expect(worker.stderr).toMatch(/not a crew job: \d+ bytes of tasks/);
    const run = await queued(['sum', '1000', '--json']);
    expect(run.code).toBe(0);
    expect(worker.child.exitCode).toBeNull();
  });
});

describe('a forged answer is never trusted', () => {
  it('a worker that says its body is some other file has its rows fail: nothing is read or placed', async () => {
    await stopWorkers(); // the answers below are the only ones
    const secret = join(work, 'secret.txt');
    await writeFile(secret, 'not for the output\n');
    const out = join(allowed, 'forged');
    await writeFile(join(work, 'forged.csv'), `a,${server.url}/img/a\nb,${server.url}/img/b\n`);
    const run = (format: string[]) =>
      spawnCrew(['download-csv', join(work, 'forged.csv'), '--out', out, '--json', ...format], {
        env: { ...env, CREW_QUEUE: postgres.url },
      });
    try {
      for (const format of [[], ['--output-format', 'webdataset']]) {
        const coordinator = collect(run(format));
        // A "worker" that answers every task of the job: a temp file of its choosing.
        let answered = 0;
        while (answered < 2) {
          const jobs = await boss.fetch(QUEUE, { batchSize: 8 });
          for (const job of jobs) {
            const { tasks } = decodeJob(job.data);
            // Only this run's rows (a job another test left is answered as not crew's).
            const ours = tasks.every((t) => (t.input as FetchInput).tempFolder?.startsWith(out));
            if (!ours) {
              await boss.complete(QUEUE, job.id, encodeOutcomes([]));
              continue;
            }
            const outcomes = tasks.map(({ input }) => {
              const { url } = input as FetchInput;
              const value = {
                kind: 'ok',
                status: 200,
                bytes: 19,
                sha256: 'x',
                contentType: 'image/png',
              };
              return {
                ok: true as const,
                value: { ...value, ext: 'png', finalUrl: url, temp: secret },
              };
            });
            await boss.complete(QUEUE, job.id, encodeOutcomes(outcomes));
            answered += tasks.length;
          }
          if (jobs.length === 0) await sleep(50);
        }
        const { code, stdout } = await coordinator;
        expect(code).toBe(1);
        const failures = (JSON.parse(stdout) as { failures: { error: string }[] }).failures;
        expect(failures.map((f) => f.error)).toEqual([
          "refused the worker's answer: a temp file crew did not name",
          "refused the worker's answer: a temp file crew did not name",
        ]);
        // Nothing in --out (files, manifest, tars) holds the file's bytes; the file is as it was.
        for (const file of await tree(out)) {
          const text = await readFile(join(out, file), 'utf8').catch(() => ''); // '': a folder
          expect(text).not.toContain('not for the output');
        }
        expect(await readFile(secret, 'utf8')).toBe('not for the output\n');
      }
    } finally {
      await serving(startWorker());
    }
  });
});

/**
 * Plays a worker that answers every task of this run's jobs with `forge(name, input)` (jobs
 * of other runs, which `ours` does not claim, are answered as not crew's), until the run's
 * `coordinator` has ended; gives what it ended with.
 */
async function answerAs<T>(
  coordinator: Promise<T>,
  ours: (task: QueueTask) => boolean,
  forge: (name: string, input: unknown) => Promise<unknown>,
): Promise<T> {
  let ended = false;
  void coordinator.finally(() => (ended = true));
  while (!ended) {
    const jobs = await boss.fetch(QUEUE, { batchSize: 8 });
    for (const job of jobs) {
      const decoded = decodeJob(job.data);
      if (!decoded.tasks.every(ours)) {
        await boss.complete(QUEUE, job.id, encodeOutcomes([]));
        continue;
      }
      const outcomes = await Promise.all(
        decoded.tasks.map(async ({ name, input }) => ({
          ok: true as const,
          value: await forge(name, input),
        })),
      );
      await boss.complete(QUEUE, job.id, encodeOutcomes(outcomes));
    }
    if (jobs.length === 0) await sleep(50);
  }
  return coordinator;
}

describe('a forged sum or logstats answer fails its task, cleanly', () => {
  it('sum: a partial for another chunk, of another type, or with a field that is an escape', async () => {
    await stopWorkers(); // the answers below are the only ones
    const forgeries: [(input: Range) => unknown, RegExp][] = [
      [({ start, end }) => (end - start) * start, /task sumRange: must be an object/],
      [({ start, end }) => ({ start, end: end + 1n, sum: 0n }), /"end" must be \d+, the end asked/],
      [({ start, end }) => ({ start, end, sum: String(start) }), /"sum" must be a BigInt/],
      [
        ({ start, end }) => ({ start, end, sum: 2n ** 2000n }),
        /"sum" must lie between \d+ times the chunk's least and its greatest number/,
      ],
      [
        ({ start, end }) => ({ start, end, sum: start, '\x1b[2J\x1b]0;owned\x07': 1 }),
        /unexpected field "\\x1b\[2J\\x1b\]0;owned\\x07"/,
      ],
    ];
    try {
      for (const [forge, says] of forgeries) {
        // A range no other test sums: its jobs are told apart from any left on the queue.
        const coordinator = collect(
          spawnCrew(['sum', '--start', '7770000', '--end', '7771000', '-w', '2', '--json'], {
            env: { ...env, CREW_QUEUE: postgres.url },
          }),
        );
        const ours = ({ name, input }: QueueTask) =>
          name === 'sumRange' &&
          ((input as Range).start >= 7770000n || (input as Range).end === 64n);
        // Two warm-up tasks and two chunks: the run fails at the first refused answer.
        const { code, stdout, stderr } = await answerAs(coordinator, ours, (_, input) =>
          Promise.resolve(forge(input as Range)),
        );
        expect(code).toBe(1);
        // --json says why the run stopped; stderr says it once, on one line.
        const { stopped } = JSON.parse(stdout) as { stopped: { reason: string; message: string } };
        expect(stopped.reason).toBe('error');
        expect(stopped.message).toMatch(
          /^refused the answer of queue job [-0-9a-f]{36}: task sumRange: /,
        );
        expect(stopped.message).toMatch(says);
        expect(stderr).toMatch(/^crew: .*refused the answer of queue job/);
        // The escapes the forger sent are written out, never sent to the terminal.
        for (const text of [stdout, stderr]) {
          for (const control of ['\x1b', '\x07']) expect(text).not.toContain(control);
        }
        expect(stderr.trim().split('\n')).toHaveLength(1);
      }
    } finally {
      await serving(startWorker());
    }
  });

  it('logstats --panels: bad counts, keys and sets fail their file; the rest of the report stands', async () => {
    await stopWorkers();
    const logs = join(work, 'forged-logs');
    await mkdir(logs);
    const line = (i: number) =>
      `10.0.${i >> 8}.${i & 255} - - [01/Jan/2026:10:00:00 +0000] "GET /p${i % 9} HTTP/1.1" ${i % 4 === 0 ? 404 : 200} 12 "-" "curl/8"\n`;
    // Cut into ranges (a task each, forged), and a small file (a batch, answered truly).
    await writeFile(
      join(logs, 'big.log'),
      Array.from({ length: 1500 }, (_, i) => line(i)).join(''),
    );
    await writeFile(join(logs, 'small.log'), line(1) + line(2));
    const forgeries: [string, (result: RangeResult) => void, RegExp][] = [
      [
        'a negative count',
        (r) => ((r.panels!.status as unknown as number[][])[0]![1] = -5),
        /"panels\.status\.0\.1" must be a whole number/,
      ],
      [
        'NaN',
        (r) => Object.assign(r.panels!, { bytes: Number.NaN }),
        /"panels\.bytes" must be a whole number/,
      ],
      [
        'a key that is no text',
        (r) => (r.panels!.agents as unknown[]).push([{ toString: 'x' }, 1]),
        /"panels\.agents\.\d+\.0" must be a string/,
      ],
      [
        'a set of plain numbers',
        (r) => Object.assign(r.ipv4, { hashes: [...r.ipv4.hashes!] }),
        /"ipv4\.hashes" must be a Uint32Array/,
      ],
      [
        'a prototype key, escapes in it',
        (r) => Object.defineProperty(r, '__proto__\x1b[2J', { value: {}, enumerable: true }),
        /unexpected field "__proto__\\x1b\[2J"/,
      ],
      ['a BigInt count', (r) => Object.assign(r, { total: 10n }), /"total" must be a whole number/],
    ];
    const args = ['logstats', logs, '--json', '--panels', 'all', '--split-size', '64K'];
    const ours = ({ input }: QueueTask) =>
      JSON.stringify(input, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).includes(
        logs,
      );
    try {
      for (const [, forge, says] of forgeries) {
        const coordinator = collect(spawnCrew(args, { env: { ...env, CREW_QUEUE: postgres.url } }));
        // big.log's ranges, forged, and the batch of small.log, true.
        const { code, stdout, stderr } = await answerAs(coordinator, ours, async (name, input) => {
          const result = (await taskNamed(name)!.run(input)) as RangeResult;
          if (name === 'logstatsRange') forge(result);
          return result;
        });
        expect(code).toBe(1);
        expect(stderr).not.toContain('\x1b');
        const report = JSON.parse(stdout) as {
          failed: { file: string; error: string }[];
          files: { file: string; total: number }[];
        };
        expect(report.failed).toHaveLength(1);
        expect(report.failed[0]!.file).toMatch(/big\.log$/);
        expect(report.failed[0]!.error).toMatch(
          /^refused the answer of queue job [-0-9a-f]{36}: task logstatsRange: /,
        );
        expect(report.failed[0]!.error).toMatch(says);
        expect(report.files.map(({ file, total }) => [basename(file), total])).toEqual([
          ['small.log', 2],
        ]);
      }
    } finally {
      await serving(startWorker());
    }
  });
});

describe('a dead worker or coordinator loses nothing', () => {
  it('finishes every row when a worker dies, or freezes, in the middle of a big body', async () => {
    const second = startWorker();
    await serving(second);
    const out = join(allowed, 'big');
    const rows = Array.from({ length: 4 }, (_, i) => `big${i},${server.url}/trickle/1200/${i}`);
    await writeFile(join(work, 'big.csv'), `${rows.join('\n')}\n`);
    for (const how of ['SIGKILL', 'SIGSTOP'] as const) {
      await rm(out, { recursive: true, force: true });
      const said = new Map(workers.map((w) => [w, w.stderr.length]));
      const coordinator = spawnCrew(
        [
          'download-csv',
          join(work, 'big.csv'),
          '--out',
          out,
          '--json',
          '-w',
          '1',
          '-c',
          '4',
        ].concat(['--task-timeout', '10']),
        { env: { ...env, CREW_QUEUE: postgres.url } },
      );
      const result = collect(coordinator, { timeoutMs: 90_000 });
      // The worker that holds the job, in the middle of its bodies.
      let holder: Worker | undefined;
      while (holder === undefined) {
        holder = workers.find((w) =>
          /running download .*trickle/.test(w.stderr.slice(said.get(w) ?? 0)),
        );
        await sleep(100);
      }
      await sleep(800);
      holder.child.kill(how);
      const run = await result;
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ total: 4, ok: 4, failed: 0 });
      // Every body whole under its own name; no second copy, no temp folder left.
      expect(await tree(out)).toEqual([
        'big0.png',
        'big1.png',
        'big2.png',
        'big3.png',
        'crew-manifest.jsonl',
      ]);
      if (how === 'SIGSTOP') {
        // Woken after its job went elsewhere: it stops that job, and nothing of it lands.
        holder.child.kill('SIGCONT');
        for (let i = 0; i < 100 && !holder.stderr.includes('stopped a job'); i++) await sleep(100);
        expect(holder.stderr).toContain('stopped a job: the job was cancelled or taken elsewhere');
        expect(await tree(out)).toHaveLength(5);
      }
      // The one killed is replaced for the next round.
      workers.splice(workers.indexOf(holder), 1);
      holder.child.kill('SIGKILL');
      await serving(startWorker());
    }
  }, 200_000);

  it('sends through a restart of the database: a streamed download loses no row', async () => {
    const out = join(allowed, 'restart');
    const coordinator = spawnCrew(['download-csv', '-', '--out', out, '--json'], {
      env: { ...env, CREW_QUEUE: postgres.url },
    });
    const result = collect(coordinator, { keepStdinOpen: true, timeoutMs: 120_000 });
    for (let i = 0; i < 300; i++) {
      coordinator.stdin!.write(`row${i},${server.url}/img/restart-${i}\n`);
      if (i === 100) await postgres.restart(3_000);
      else await sleep(10);
    }
    coordinator.stdin!.end();
    const run = await result;
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ total: 300, ok: 300 });
    for (const { child } of workers) expect(child.exitCode).toBeNull();
  }, 150_000);

  it("drops a killed coordinator's jobs instead of running them ahead of later runs", async () => {
    // 40 jobs: one log of 40 lines of 64 KiB, cut at --split-size 64K (small files would go
    // many to a job).
    const logs = join(allowed, 'many-ranges.log');
    const line = (i: number): string => {
      const head = `10.0.0.${i} - - [01/Jan/2026:00:00:00 +0000] "GET /`;
      const tail = ' HTTP/1.1" 200 1\n';
      return head + 'x'.repeat(64 * 1024 - head.length - tail.length) + tail;
    };
    await writeFile(logs, Array.from({ length: 40 }, (_, i) => line(i)).join(''));
    const before = new Map(workers.map((w) => [w, w.stderr.length]));
    for (const { child } of workers) child.kill('SIGSTOP');
    let dead = '';
    try {
      const coordinator = spawnCrew(['logstats', logs, '--split-size', '64K'], {
        env: { ...env, CREW_QUEUE: postgres.url },
      });
      while ((await countJobs(`state = 'created'`)) < 40) {
        if (coordinator.exitCode !== null) throw new Error('the coordinator ended');
        await sleep(50);
      }
      coordinator.kill('SIGKILL');
      const { rows } = await boss
        .getDb()
        .executeSql(`SELECT DISTINCT data->>'run' AS run FROM pgboss.job WHERE state = 'created'`);
      dead = (rows[0] as { run: string }).run;
      // Its run stops beating; once it has missed three beats it is gone.
      await sleep(16_000);
    } finally {
      for (const { child } of workers) child.kill('SIGCONT');
    }
    const next = await queued(['sum', '1000', '--json'], { timeoutMs: 60_000 });
    expect(next.code).toBe(0);
    for (let i = 0; i < 100 && (await countJobs(`state = 'created'`)) > 0; i++) await sleep(100);
    const ofDead = (state: string) => countJobs(`state = '${state}' AND data->>'run' = '${dead}'`);
    // The first of its jobs a worker took dropped them all: none ran for nobody.
    expect(await ofDead('cancelled')).toBe(40);
    expect(await ofDead('completed')).toBe(0);
    // Each worker says what it dropped (two may each take one of them at once).
    const said = workers.map((w) => w.stderr.slice(before.get(w) ?? 0)).join('');
    const dropped = [...said.matchAll(/dropped (\d+) jobs?: the run that sent them has stopped/g)];
    expect(dropped.reduce((n, match) => n + Number(match[1]), 0)).toBe(40);
  }, 90_000);

  it('stops a task whose job was cancelled: Ctrl-C on a long sum frees its worker', async () => {
    const worker = workers[0]!;
    const coordinator = spawnCrew(['sum', '--start', '0', '--end', String(2n ** 50n), '-w', '1'], {
      env: { ...env, CREW_QUEUE: postgres.url },
    });
    const result = collect(coordinator);
    while ((await countJobs(`state = 'active'`)) === 0) await sleep(50);
    await sleep(500);
    coordinator.kill('SIGINT');
    expect((await result).code).toBe(130);
    for (let i = 0; i < 200 && !worker.stderr.includes('stopped a job'); i++) await sleep(100);
    expect(workers.map((w) => w.stderr).join('')).toContain(
      'stopped a job: the job was cancelled or taken elsewhere',
    );
    const next = await queued(['sum', '1000', '--json']);
    expect(next.code).toBe(0);
  }, 90_000);

  it('lands nothing after Ctrl-C: what the workers were fetching is not placed later', async () => {
    const out = join(allowed, 'late');
    const rows = Array.from({ length: 20 }, (_, i) => `late${i},${server.url}/late?${i}`);
    await writeFile(join(work, 'late.csv'), `${rows.join('\n')}\n`);
    const coordinator = spawnCrew(['download-csv', join(work, 'late.csv'), '--out', out], {
      env: { ...env, CREW_QUEUE: postgres.url },
    });
    const result = collect(coordinator);
    while ([...server.hits.keys()].filter((k) => k.startsWith('/late')).length < 2) await sleep(20);
    coordinator.kill('SIGINT');
    expect((await result).code).toBe(130);
    await sleep(3_000); // the workers' requests answer after 1.5 s
    expect(await tree(out)).toEqual(['crew-manifest.jsonl']);
    expect(await readFile(join(out, 'crew-manifest.jsonl'), 'utf8')).toBe('');
  });
});

describe('an operator is told what is going on', () => {
  it('says when no worker takes a job, and stops at one Ctrl-C', async () => {
    for (const { child } of workers) child.kill('SIGSTOP');
    try {
      const coordinator = spawnCrew(['sum', '1e6'], { env: { ...env, CREW_QUEUE: postgres.url } });
      const result = collect(coordinator);
      let said = '';
      coordinator.stderr!.on('data', (chunk: Buffer) => (said += chunk.toString()));
      for (let i = 0; i < 300 && !said.includes('no worker'); i++) await sleep(100);
      coordinator.kill('SIGINT');
      const run = await result;
      expect(run.code).toBe(130);
      expect(run.stderr).toMatch(
        /crew: no worker has taken a job for \d+ s: is `crew worker` running\? \(\d+ workers? serving this queue\)/,
      );
    } finally {
      for (const { child } of workers) child.kill('SIGCONT');
    }
  }, 60_000);

  it('stops at one Ctrl-C while a queue host never answers', async () => {
    const silent: Server = createServer(() => undefined); // accepts, never speaks
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const { port } = silent.address() as { port: number };
      const coordinator = spawnCrew(
        ['sum', '1e6', '--queue', `postgres://x@127.0.0.1:${port}/db`],
        {
          env,
        },
      );
      const result = collect(coordinator);
      await untilCatches(coordinator.pid!, 'SIGINT');
      await sleep(1_000); // connecting, to a host that never answers
      const asked = Date.now();
      coordinator.kill('SIGINT');
      const run = await result;
      expect(run.code).toBe(130);
      expect(Date.now() - asked).toBeLessThan(5_000);
    } finally {
      silent.close();
    }
  });

  it('shows live workers, and only reads: a database without a queue is left as it was', async () => {
    const status = await queued(['queue', 'status', '--json']);
    expect(status.code).toBe(0);
    const doc = JSON.parse(status.stdout) as { exists: boolean; workers: { pid: number }[] };
    expect(doc.exists).toBe(true);
    expect(doc.workers.map((w) => w.pid).sort()).toEqual(workers.map((w) => w.child.pid).sort());
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      await client.query('CREATE DATABASE other');
      const other = postgres.url.replace(/\/crew$/, '/other');
      const empty = await runCrew(['queue', 'status', other], { env });
      expect(empty.code).toBe(0);
      expect(empty.stdout).toContain('no crew queue in this database yet');
      const check = new pg.Client({ connectionString: other });
      await check.connect();
      const { rows } = await check.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname IN ('pgboss', 'crew')`,
      );
      await check.end();
      expect(rows[0]!.n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('counts a log whose name is not UTF-8 through the queue as a local run does', async () => {
    const logs = Buffer.from(join(allowed, 'names'));
    await mkdir(logs);
    const name = Buffer.concat([logs, Buffer.from('/a\xff\x1b[2J.log', 'latin1')]);
    await writeFile(name, '1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1\n');
    const remote = await queued(['logstats', logs.toString(), '--json']);
    expect(remote.stderr).toBe('');
    expect(remote.code).toBe(0);
    expect(JSON.parse(remote.stdout)).toMatchObject({ all: { total: 1, ip: 1 }, runtime: 'queue' });
    // The worker's log escapes what a name holds: no raw escape byte reaches its terminal.
    expect(workers.map((w) => w.stderr).join('')).not.toContain('\x1b');
  });
});
