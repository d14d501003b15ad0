/**
 * Who is alive on the queue. Each coordinator's run and each worker beats every few seconds
 * in two small tables of crew's own (schema `crew`, beside pg-boss's), so that:
 * - a worker drops the jobs of a run whose coordinator stopped beating (kill -9, a lost
 *   machine) instead of running them for nobody, ahead of live runs;
 * - a coordinator can say that no worker is serving, and `crew queue status` who is.
 * The tables hold ids, host names, versions and times: nothing a task carries.
 */
import { hostname } from 'node:os';
import type { PgBoss } from 'pg-boss';
import { sql } from './connect.ts';
import { QUEUE } from './wire.ts';

/** How often runs and workers beat. */
export const BEAT_MS = 5_000;
/** A run or worker silent this long (three beats missed) is gone. */
export const GONE_SECONDS = 15;

/**
 * Creates crew's tables if they are not there. Under an advisory lock: two processes that
 * start at once would otherwise race on CREATE SCHEMA.
 */
export async function preparePresence(boss: PgBoss): Promise<void> {
  // No parameters: one simple query, so its statements run as one transaction.
  await sql(
    boss,
    `SELECT pg_advisory_xact_lock(hashtext('crew presence'));
     CREATE SCHEMA IF NOT EXISTS crew;
     CREATE TABLE IF NOT EXISTS crew.runs (
       id uuid PRIMARY KEY,
       beat timestamptz NOT NULL DEFAULT now()
     );
     CREATE TABLE IF NOT EXISTS crew.workers (
       id uuid PRIMARY KEY,
       host text NOT NULL,
       pid int NOT NULL,
       version text NOT NULL,
       jobs int NOT NULL DEFAULT 0,
       beat timestamptz NOT NULL DEFAULT now()
     );`,
  );
}

/** Keeps a row beating until stopped; a failed beat is tried again at the next one. */
export interface Beating {
  stop(): Promise<void>;
}

function beat(
  upsert: () => Promise<unknown>,
  remove: () => Promise<unknown>,
  onTrouble: (error: Error) => void,
): Beating {
  const once = (): void => void upsert().catch((error: Error) => onTrouble(error));
  once();
  const timer = setInterval(once, BEAT_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await remove().catch(() => undefined);
    },
  };
}

/** A coordinator's run beats while it waits for its jobs. */
export function beatRun(boss: PgBoss, run: string, onTrouble: (error: Error) => void): Beating {
  return beat(
    () =>
      sql(
        boss,
        `INSERT INTO crew.runs (id) VALUES ($1)
         ON CONFLICT (id) DO UPDATE SET beat = now()`,
        [run],
      ),
    () => sql(boss, 'DELETE FROM crew.runs WHERE id = $1', [run]),
    onTrouble,
  );
}

/** A worker beats while it serves, with how many jobs it runs. */
export function beatWorker(
  boss: PgBoss,
  worker: { readonly id: string; readonly version: string; readonly jobs: () => number },
  onTrouble: (error: Error) => void,
): Beating {
  return beat(
    () =>
      sql(
        boss,
        `INSERT INTO crew.workers (id, host, pid, version, jobs) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET jobs = $5, beat = now()`,
        [worker.id, hostname().slice(0, 255), process.pid, worker.version, worker.jobs()],
      ),
    () => sql(boss, 'DELETE FROM crew.workers WHERE id = $1', [worker.id]),
    onTrouble,
  );
}

/** Whether run `run` beat lately: its coordinator still waits for its jobs. */
export async function runIsAlive(boss: PgBoss, run: string): Promise<boolean> {
  const rows = await sql(
    boss,
    `SELECT 1 FROM crew.runs WHERE id = $1 AND beat > now() - make_interval(secs => $2)`,
    [run, GONE_SECONDS],
  );
  return rows.length > 0;
}

/**
 * Cancels every job of `run` that no worker holds yet: its coordinator is gone. Returns how
 * many; pg-boss's own cancel, so its counts stay right.
 */
export async function dropJobsOf(boss: PgBoss, run: string): Promise<number> {
  const rows = (await sql(
    boss,
    `SELECT id FROM pgboss.job
      WHERE name = $1 AND state IN ('created', 'retry') AND data->>'run' = $2
      LIMIT 10000`,
    [QUEUE, run],
  )) as { id: string }[];
  if (rows.length === 0) return 0;
  // What this call cancelled, not what it saw: two workers may drop the same run at once.
  const done = (await boss.cancel(
    QUEUE,
    rows.map((row) => row.id),
  )) as { affected?: number };
  return done.affected ?? rows.length;
}

/** Workers that beat lately. */
export interface LiveWorker {
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly jobs: number;
  /** Seconds since its last beat. */
  readonly seconds: number;
}

/** The workers serving now, asked through `query` (pg-boss's pool, or a plain client). */
export async function liveWorkers(
  query: (text: string, values: unknown[]) => Promise<unknown[]>,
): Promise<LiveWorker[]> {
  const rows = await query(
    `SELECT host, pid, version, jobs, extract(epoch FROM now() - beat)::float8 AS seconds
       FROM crew.workers WHERE beat > now() - make_interval(secs => $1)
      ORDER BY host, pid`,
    [GONE_SECONDS],
  );
  return rows as LiveWorker[];
}
