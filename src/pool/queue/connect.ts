/**
 * Connections to the queue: pg-boss for jobs, and one plain client per process that
 * LISTENs for crew's wake-up notices. Both come back by themselves after the database
 * restarts or the network drops: pg-boss's pool opens fresh connections per query, and the
 * listener reconnects with a pause.
 */
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { QUEUE } from './wire.ts';

/** Attempts of a job before it counts as failed: a lost worker costs one. */
const RETRY_LIMIT = 3;
/** Finished jobs (and their outputs) are kept this long for `crew queue status`, then deleted. */
const KEEP_DONE_SECONDS = 15 * 60;

/**
 * Starts pg-boss on `url`, creating its schema and crew's queue on first use. Every crew
 * process supervises the queue often (each second at most), so a job whose worker stopped
 * sending heartbeats goes back to the queue soon after its timeout.
 */
export async function openBoss(url: string, onError: (error: Error) => void): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    max: 4,
    schedule: false,
    superviseIntervalSeconds: 2,
    monitorIntervalSeconds: 2,
    maintenanceIntervalSeconds: 60,
    // The password must never reach a log: pg-boss's messages do not carry the URL.
    application_name: 'crew',
  });
  boss.on('error', onError);
  await boss.start();
  await boss.createQueue(QUEUE, {
    retryLimit: RETRY_LIMIT,
    retryDelay: 0,
    deleteAfterSeconds: KEEP_DONE_SECONDS,
  });
  return boss;
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
