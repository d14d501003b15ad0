import pg from 'pg';
import { GONE_SECONDS, liveWorkers, type LiveWorker } from '../../pool/queue/presence.ts';
import { redactUrl } from '../../pool/queue/url.ts';
import { QUEUE } from '../../pool/queue/wire.ts';
import { formatCount, table } from '../../ui/format.ts';
import { printable } from '../../ui/printable.ts';
import type { RunContext } from '../command.ts';
import type { QueueStatusConfig } from './options.ts';

/** Jobs of crew's queue by state (a job is a batch of tasks), and who serves it. */
export interface QueueStatus {
  readonly queue: string;
  /** Whether the database holds crew's queue at all (the first worker or run creates it). */
  readonly exists: boolean;
  readonly waiting: number;
  readonly active: number;
  readonly done: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Coordinators waiting for their jobs now. */
  readonly runs: number;
  readonly workers: readonly LiveWorker[];
}

/**
 * Reads the queue's state with plain queries: nothing is created or changed, so pointing it
 * at the wrong database leaves that database as it was.
 */
export async function run(config: QueueStatusConfig, context: RunContext): Promise<QueueStatus> {
  const client = new pg.Client({
    connectionString: config.url,
    application_name: 'crew',
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => undefined);
  const stop = (): void => void client.end().catch(() => undefined);
  context.signal.addEventListener('abort', stop, { once: true });
  try {
    await client.connect();
    context.signal.throwIfAborted();
    const query = async (text: string, values: unknown[] = []): Promise<unknown[]> =>
      (await client.query(text, values)).rows as unknown[];
    const [found] = (await query(
      `SELECT to_regclass('pgboss.job') IS NOT NULL AS jobs,
              to_regclass('crew.workers') IS NOT NULL AS presence`,
    )) as { jobs: boolean; presence: boolean }[];
    const rows = found?.jobs
      ? ((await query(
          'SELECT state::text AS state, count(*)::int AS n FROM pgboss.job WHERE name = $1 GROUP BY state',
          [QUEUE],
        )) as { state: string; n: number }[])
      : [];
    const count = (...states: string[]): number =>
      rows.filter((r) => states.includes(r.state)).reduce((n, r) => n + r.n, 0);
    const presence = found?.presence ?? false;
    const [runs] = presence
      ? ((await query(
          `SELECT count(*)::int AS n FROM crew.runs WHERE beat > now() - make_interval(secs => $1)`,
          [GONE_SECONDS],
        )) as { n: number }[])
      : [];
    return {
      queue: redactUrl(config.url),
      exists: found?.jobs ?? false,
      waiting: count('created', 'retry'),
      active: count('active'),
      done: count('completed'),
      failed: count('failed'),
      cancelled: count('cancelled'),
      runs: runs?.n ?? 0,
      workers: presence ? await liveWorkers(query) : [],
    };
  } finally {
    context.signal.removeEventListener('abort', stop);
    await client.end().catch(() => undefined);
  }
}

export function format(status: QueueStatus): string {
  if (!status.exists) {
    return `${printable(status.queue)}: no crew queue in this database yet (the first crew worker or --queue run creates it)`;
  }
  const lines = [
    table(
      ['jobs', printable(status.queue)],
      [
        ['waiting', formatCount(status.waiting)],
        ['active', formatCount(status.active)],
        ['done', formatCount(status.done)],
        ['failed', formatCount(status.failed)],
        ['cancelled', formatCount(status.cancelled)],
        ['runs', `${formatCount(status.runs)} waiting for their jobs`],
        ['workers', `${formatCount(status.workers.length)} serving`],
      ],
    ),
  ];
  if (status.workers.length > 0) {
    lines.push(
      '',
      table(
        ['  host', 'pid', 'version', 'jobs', 'seen'],
        status.workers.map((w) => [
          `  ${printable(w.host)}`,
          String(w.pid),
          printable(w.version),
          String(w.jobs),
          `${Math.round(w.seconds)} s ago`,
        ]),
      ),
    );
  }
  lines.push('', `(a job is a batch of tasks; done and failed ones are kept for 15 minutes)`);
  return lines.join('\n');
}

export const json = (status: QueueStatus): unknown => status;
