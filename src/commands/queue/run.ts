import { openBoss, sql } from '../../pool/queue/connect.ts';
import { redactUrl } from '../../pool/queue/url.ts';
import { QUEUE } from '../../pool/queue/wire.ts';
import { formatCount, table } from '../../ui/format.ts';
import { printable } from '../../ui/printable.ts';
import type { QueueStatusConfig } from './options.ts';

/** Jobs of crew's queue by state (a job is a batch of tasks). */
export interface QueueStatus {
  readonly queue: string;
  readonly waiting: number;
  readonly active: number;
  readonly done: number;
  readonly failed: number;
  readonly cancelled: number;
}

export async function run(config: QueueStatusConfig): Promise<QueueStatus> {
  let trouble: Error | undefined;
  const boss = await openBoss(config.url, (error) => (trouble = error));
  try {
    const rows = (await sql(
      boss,
      'SELECT state::text AS state, count(*)::int AS n FROM pgboss.job WHERE name = $1 GROUP BY state',
      [QUEUE],
    )) as { state: string; n: number }[];
    if (trouble) throw trouble;
    const count = (...states: string[]): number =>
      rows.filter((r) => states.includes(r.state)).reduce((n, r) => n + r.n, 0);
    return {
      queue: redactUrl(config.url),
      waiting: count('created', 'retry'),
      active: count('active'),
      done: count('completed'),
      failed: count('failed'),
      cancelled: count('cancelled'),
    };
  } finally {
    await boss.stop({ graceful: false, timeout: 5_000 }).catch(() => undefined);
  }
}

export function format(status: QueueStatus): string {
  return [
    table(
      ['jobs', printable(status.queue)],
      [
        ['waiting', formatCount(status.waiting)],
        ['active', formatCount(status.active)],
        ['done', formatCount(status.done)],
        ['failed', formatCount(status.failed)],
        ['cancelled', formatCount(status.cancelled)],
      ],
    ),
    '',
    '(a job is a batch of tasks; done and failed ones are kept for 15 minutes)',
  ].join('\n');
}

export const json = (status: QueueStatus): unknown => status;
export function check(): void {}
