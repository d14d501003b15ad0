/**
 * Connections to the queue: pg-boss for jobs, and one plain client per process that
 * LISTENs for crew's wake-up notices. Both come back by themselves after the database
 * restarts or the network drops: pg-boss's pool opens fresh connections per query, and the
 * listener reconnects with a pause.
 */
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { QUEUE } from './wire.ts';

/**
 * Retries of a job before it counts as failed: a lost worker costs one, so a job is tried 3
 * times, and one that kills every worker it is given kills at most three.
 */
const RETRY_LIMIT = 2;
/** How long connecting may take before it counts as failed. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Finished jobs (and their outputs) are kept this long for `crew queue status`, then deleted. */
const KEEP_DONE_SECONDS = 15 * 60;

/**
 * Starts pg-boss on `url`, creating its schema and crew's queue on first use. Every crew
 * process supervises the queue often (each second at most), so a job whose worker stopped
 * sending heartbeats goes back to the queue soon after its timeout.
 */
export async function openBoss(
  url: string,
  onError: (error: Error) => void,
  signal?: AbortSignal,
): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    max: 4,
    schedule: false,
    superviseIntervalSeconds: 2,
    monitorIntervalSeconds: 2,
    maintenanceIntervalSeconds: 60,
    // The password must never reach a log: pg-boss's messages do not carry the URL.
    application_name: 'crew',
  });
  boss.on('error', onError);
  // Ctrl-C while a host never answers: stop waiting (the attempt is left to time out).
  const aborted = new Promise<never>((_, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
  aborted.catch(() => undefined);
  try {
    await Promise.race([boss.start(), aborted]);
  } catch (error) {
    void boss.stop({ graceful: false, timeout: 1_000 }).catch(() => undefined);
    throw error;
  }
  await boss.createQueue(QUEUE, {
    retryLimit: RETRY_LIMIT,
    retryDelay: 0,
    deleteAfterSeconds: KEEP_DONE_SECONDS,
  });
  return boss;
}

/**
 * Whether an error says the database is out of reach for now (restarting, shutting down, a
 * dropped connection), so the same statement may pass once it is back.
 */
export function isPassing(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return (
    (typeof code === 'string' &&
      (/^(08|57P0)/.test(code) ||
        code === '53300' ||
        ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND'].includes(
          code,
        ))) ||
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|the database system is (shutting down|starting up|in recovery)|terminating connection/i.test(
      message ?? '',
    )
  );
}

/**
 * How long connecting goes on trying through a database that is out of reach for now: a
 * restart's few seconds, not a wrong address's forever.
 */
export const START_PATIENCE_MS = 15_000;

/**
 * Opens pg-boss and crew's own tables, trying again each second for START_PATIENCE_MS while
 * the database is out of reach for now (isPassing): a run that starts while the database
 * restarts waits for it, as a running one does. `onRetry` hears of each failed try.
 */
export async function openQueue(
  url: string,
  onError: (error: Error) => void,
  prepare: (boss: PgBoss) => Promise<void>,
  options: { readonly signal?: AbortSignal; readonly onRetry?: (error: Error) => void } = {},
): Promise<PgBoss> {
  const until = Date.now() + START_PATIENCE_MS;
  for (;;) {
    let boss: PgBoss | undefined;
    try {
      boss = await openBoss(url, onError, options.signal);
      await prepare(boss);
      return boss;
    } catch (error) {
      void boss?.stop({ graceful: false, timeout: 1_000 }).catch(() => undefined);
      if (options.signal?.aborted || !isPassing(error) || Date.now() > until) throw error;
      options.onRetry?.(error as Error);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/** Runs one statement on pg-boss's pool. */
export async function sql(boss: PgBoss, text: string, values: unknown[] = []): Promise<unknown[]> {
  const result = await boss.getDb().executeSql(text, values);
  return result.rows as unknown[];
}

export interface Listener {
  close(): Promise<void>;
}

/**
 * LISTENs on `channel`, calling `onNotice(payload)` for each notice, and `onNotice('')` after
 * every (re)connect, since notices sent while disconnected are lost.
 */
export function listen(
  url: string,
  channel: string,
  onNotice: (payload: string) => void,
  onTrouble: (error: Error) => void,
): Listener {
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, application_name: 'crew' });
    client = next;
    const lost = (error: Error): void => {
      next.removeAllListeners();
      next.on('error', () => undefined);
      void next.end().catch(() => undefined);
      if (closed) return;
      onTrouble(error);
      retry = setTimeout(() => void connect(), 1_000);
    };
    next.on('error', lost);
    next.on('end', () => lost(new Error('the database closed the connection')));
    next.on('notification', (message) => onNotice(message.payload ?? ''));
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
      onNotice('');
    } catch (error) {
      lost(error as Error);
    }
  };
  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      client?.removeAllListeners();
      client?.on('error', () => undefined);
      await client?.end().catch(() => undefined);
    },
  };
}
