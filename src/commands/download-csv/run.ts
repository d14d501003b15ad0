import { join } from 'node:path';
import { ItemFailures, UsageError } from '../../errors.ts';
import type {
  DownloadConfig,
  DownloadPlan,
  DownloadProgress,
  DownloadResult,
  RowFailure,
} from '../../download/config.ts';
import { InputError } from '../../download/errors.ts';
import { capText } from '../../download/limits.ts';
import { MANIFEST } from '../../download/manifest.ts';
import type { DownloadTasks } from '../../download/fetcher.ts';
import { runDownload as runPipeline } from '../../download/run.ts';
import type { PoolFactory } from '../../pool/pool.ts';
import { etaText, formatBytes, formatMs, plural, round, style, table } from '../../ui/format.ts';
import { printable } from '../../ui/printable.ts';
import type { RunContext } from '../command.ts';

export async function run(config: DownloadConfig, context: RunContext): Promise<DownloadResult> {
  return runDownload(config, context.pools, context.signal, (p) =>
    context.progress(progressText(p)),
  );
}

export const format = formatDownload;
export const json = downloadJson;
export const check = checkDownload;

/** A run that stopped early: the counts so far (the domain attaches them to its error). */
export const stopped = (partial: unknown): Record<string, unknown> =>
  partial === undefined ? {} : downloadJson(partial as DownloadResult);

/**
 * Said on stderr after the report: what the run read past (a damaged manifest's lines), and
 * that opt-outs were not honoured.
 */
export function notes(result: DownloadResult, config: DownloadConfig): string[] {
  const ignored =
    config.fetch.optOut === null && !config.dryRun
      ? ['--ignore-opt-out: images whose server opted out (X-Robots-Tag: noai ...) were kept']
      : [];
  return [...(result.warnings ?? []), ...ignored];
}

/** The download run; a CSV that cannot be used as given is a usage error (exit 2). */
export async function runDownload(
  config: DownloadConfig,
  pools: PoolFactory<DownloadTasks>,
  signal: AbortSignal,
  onProgress?: (p: DownloadProgress) => void,
): Promise<DownloadResult> {
  try {
    return await runPipeline(config, pools, signal, onProgress);
  } catch (error) {
    throw error instanceof InputError ? new UsageError(error.message, { cause: error }) : error;
  }
}

/** The progress line: rows done of read (of all, once the CSV is read), files/s, MB, MB/s, ETA. */
export function progressText(p: DownloadProgress): string {
  const seconds = Math.max(p.elapsedMs / 1000, 0.001);
  const eta = etaText(seconds, p.fraction);
  return (
    `${p.done} of ${p.fraction === 1 ? p.read : `${p.read}+`} rows (${Math.round(p.done / seconds)}/s), ` +
    `${(p.bytes / 1e6).toFixed(1)} MB (${(p.bytes / 1e6 / seconds).toFixed(1)} MB/s), ` +
    `${imagesText(p, seconds)}${p.failed} failed${p.waiting ? `, ${p.waiting} waiting for their shard` : ''}${eta}`
  );
}

/** The image step's part of the progress line, once it has seen an image. */
function imagesText(p: DownloadProgress, seconds: number): string {
  const images = p.images ?? 0;
  const filtered = p.filtered ?? 0;
  if (images + filtered === 0) return '';
  return `${images} images (${Math.round(images / seconds)}/s), ${filtered} filtered, `;
}

/** Failures grouped by reason, biggest group first, with the first few URLs of each. */
export function groupFailures(
  failures: readonly RowFailure[],
  examples = 3,
): { error: string; rows: number; urls: string[] }[] {
  const groups = new Map<string, { error: string; rows: number; urls: string[] }>();
  for (const f of failures) {
    const group = groups.get(f.error) ?? { error: f.error, rows: 0, urls: [] };
    group.rows++;
    if (group.urls.length < examples) group.urls.push(f.url || `(row ${f.row})`);
    groups.set(f.error, group);
  }
  return [...groups.values()].sort((a, b) => b.rows - a.rows);
}

/** The summary is for reading: a longer URL is cut (the manifest has up to 8 KB of it). */
const MAX_PRINTED_URL = 300;

/** The human summary: counts, bytes, time and rate, then failures by reason. */
export function formatDownload(result: DownloadResult): string {
  if (result.plan) return formatPlan(result.plan, result.out);
  const seconds = result.ms / 1000;
  const lines = [
    table(
      ['downloaded', style('bold', `${result.ok} of ${result.total} rows`)],
      [
        ['skipped', `${result.skipped} (already done)`],
        ...imageRows(result),
        ['failed', result.failed > 0 ? style('red', String(result.failed)) : '0'],
        ...(result.optedOut
          ? [['opted out', `${result.optedOut} (X-Robots-Tag: not kept)`] as const]
          : []),
        ['bytes', formatBytes(result.bytes)],
        [
          'time',
          `${formatMs(result.ms)} (${formatBytes(seconds > 0 ? result.bytes / seconds : 0)}/s)`,
        ],
        ['files in', printable(result.out)],
        ...(result.cleaned > 0
          ? [['cleaned', `${plural(result.cleaned, 'temp file')} a killed run left`] as const]
          : []),
      ],
    ),
  ];
  if (result.failed > result.failures.length) {
    lines.push('', `(the first ${result.failures.length} failures below; the manifest has all)`);
  }
  // Reasons (a server's words) and URLs came from input: escaped, so a row cannot set the
  // window title, clear the screen or forge a line of the summary. --json keeps them as is.
  for (const group of groupFailures(result.failures)) {
    lines.push('', `${style('red', printable(group.error))}: ${plural(group.rows, 'row')}`);
    for (const url of group.urls) lines.push(`  ${printable(capText(url, MAX_PRINTED_URL))}`);
    if (group.rows > group.urls.length)
      lines.push(`  ... and ${group.rows - group.urls.length} more`);
  }
  return lines.join('\n');
}

/** The --dry-run report: what a run would read, fetch and skip. */
export function formatPlan(plan: DownloadPlan, out: string): string {
  const rows: [string, string][] = [
    ['urls', `${plan.distinctUrls} distinct (${plan.rows - plan.bad - plan.distinctUrls} repeats)`],
    ['bad rows', String(plan.bad)],
    ...(plan.shards === undefined ? [] : [['shards', String(plan.shards)] as [string, string]]),
    [
      'a run skips',
      plan.skipShards === undefined
        ? `${plural(plan.skip, 'row')} (done before)`
        : `${plural(plan.skip, 'row')} (${plural(plan.skipShards, 'complete shard')})`,
    ],
    ['into', out],
  ];
  const lines = [
    table(['rows', style('bold', `${plan.rows} (${plan.format}), nothing fetched`)], rows),
  ];
  if (plan.hosts.length > 0) {
    lines.push('', 'hosts with the most rows:');
    for (const { host, rows: count } of plan.hosts) lines.push(`  ${printable(host)}  ${count}`);
  }
  if (plan.files.length > 0) {
    lines.push('', 'first rows go to:');
    for (const file of plan.files) lines.push(`  ${printable(file)}`);
  }
  return lines.join('\n');
}

/** The summary's rows for the image step, when it ran on any row. */
function imageRows(result: DownloadResult): (readonly [string, string])[] {
  const { images = 0, resized = 0, filtered = 0 } = result;
  if (images + filtered === 0) return [];
  const seconds = result.ms / 1000;
  const rate = seconds > 0 ? Math.round(images / seconds) : 0;
  return [
    ['images', `${images} saved (${resized} resized), ${rate}/s`],
    ['filtered', `${filtered} (outside the image filters; not failed)`],
  ];
}

export function downloadJson(result: DownloadResult): Record<string, unknown> {
  if (result.plan) return { dryRun: true, out: result.out, ms: round(result.ms), ...result.plan };
  return {
    total: result.total,
    ok: result.ok,
    failed: result.failed,
    skipped: result.skipped,
    optedOut: result.optedOut ?? 0,
    bytes: result.bytes,
    ms: round(result.ms),
    requests: result.requests,
    out: result.out,
    // Temp files of a killed run that this run removed before it began.
    cleaned: result.cleaned,
    // Rows saved through the image step (of which `resized` changed size), and rows it
    // filtered out (status "filtered" in the manifest).
    images: result.images ?? 0,
    resized: result.resized ?? 0,
    filtered: result.filtered ?? 0,
    failures: result.failures,
    // True when more rows failed than `failures` lists (see MAX_LISTED_FAILURES).
    failuresTruncated: result.failed > result.failures.length,
    warnings: result.warnings,
  };
}

/** Exit 1 after the summary when any row failed. */
export function checkDownload(result: DownloadResult): void {
  if (result.failed > 0) {
    throw new ItemFailures(
      result.failed,
      `${result.failed} of ${result.total} rows failed (see ${join(result.out, MANIFEST)})`,
    );
  }
}
