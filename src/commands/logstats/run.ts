import { performance } from 'node:perf_hooks';
import { ItemFailures, UsageError } from '../../errors.ts';
import { MISREAD_EXAMPLES, type Misread } from '../../logstats/formats/misread.ts';
import { pathText } from '../../logstats/file-names.ts';
import type { LogstatsConfig } from '../../logstats/config.ts';
import { runLogstats, type ScanProgress } from '../../logstats/run.ts';
import { openReportFile, ReportPathError, type ReportFile } from '../../logstats/report/file.ts';
import type { LogstatsResult, TopClient } from '../../logstats/summary.ts';
import {
  etaText,
  formatCount as count,
  formatMs,
  plural,
  round,
  style,
  table,
} from '../../ui/format.ts';
import { printable } from '../../ui/printable.ts';
import type { RunContext } from '../command.ts';
import { formatPanels } from './panels-text.ts';

export async function run(config: LogstatsConfig, context: RunContext): Promise<LogstatsResult> {
  // Before the scan: a report that cannot be written must not cost the whole count first.
  const report = config.html === undefined ? undefined : await reportFile(config.html);
  try {
    const began = performance.now();
    const result = await runLogstats(config, context.pools, context.signal, (p) =>
      context.progress(progressText(p, performance.now() - began)),
    );
    if (report) {
      const { renderReport } = await import('../../logstats/report/render.ts');
      await commitReport(report, renderReport(logstatsJson(result)));
    }
    return result;
  } finally {
    await report?.discard();
  }
}

/** The --html file, open before the scan; a path that cannot take it is a usage error. */
async function reportFile(path: string): Promise<ReportFile> {
  try {
    return await openReportFile(path);
  } catch (error) {
    if (error instanceof ReportPathError) {
      throw new UsageError(`--html ${path}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * Writes the page under its name; a failure (a full disk) names the path and fails the run
 * (exit 1: the counting was done, the report could not be kept).
 */
async function commitReport(report: ReportFile, page: string): Promise<void> {
  try {
    await report.commit(page);
  } catch (error) {
    if (error instanceof ReportPathError) {
      throw new Error(`--html ${report.path}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** The progress line: files and bytes done of all, the rate, and when it should end. */
export function progressText(p: ScanProgress, elapsedMs: number): string {
  const seconds = Math.max(elapsedMs / 1000, 0.001);
  const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);
  const fraction = p.totalBytes > 0 ? p.bytes / p.totalBytes : undefined;
  return (
    `counting: ${p.files} of ${p.totalFiles} files, ${mb(p.bytes)} of ${mb(p.totalBytes)} MB ` +
    `(${(p.bytes / 1e6 / seconds).toFixed(0)} MB/s)${etaText(seconds, fraction)}`
  );
}

export const format = formatLogstats;
export const json = logstatsJson;
export const check = checkLogstats;

/** A run that stopped: the files it had counted whole (the domain attaches them). */
export const stopped = (partial: unknown): Record<string, unknown> =>
  partial === undefined ? {} : logstatsJson(partial as LogstatsResult);

/**
 * Said on stderr, not errors (exit 0): files counted only in part (a .gz with trailing
 * garbage, whose data before it was read, as gzip(1) does), and paths with no log file.
 */
export function notes(result: LogstatsResult, config: LogstatsConfig): string[] {
  // A warning and a field name came from a worker: with --queue, from a row anyone can write.
  const said = result.warnings.map(
    ({ file, warning }) => `${printable(file)}: ${printable(warning)}`,
  );
  if (result.fields.length > 0) {
    // Without --ip-field, say which of the common names held the clients.
    const fields = result.fields.map((f) => `"${printable(f)}"`).join(', ');
    said.push(`JSON lines: client IPs from ${fields}`);
  }
  if (result.misread !== undefined) said.push(...misreadNotes(result.misread));
  if (result.files.length === 0 && result.failed.length === 0) {
    said.push(`no log files in ${printable(config.paths.map(pathText).join(', '))}`);
  }
  return said;
}

/**
 * What --log-format could not read: how many lines, and the first few with the reason. A
 * queue worker's examples are text anyone could write: escaped again, and no more than kept.
 */
function misreadNotes(misread: Misread): string[] {
  const { lines, examples } = misread;
  return [
    `--log-format could not read ${count(lines)} line${lines === 1 ? '' : 's'} (counted malformed), e.g.:`,
    ...examples
      .slice(0, MISREAD_EXAMPLES)
      .map((example) => `  ${printable(example.slice(0, 400))}`),
  ];
}

/**
 * The human report: one row per file (or with --by per day or hour) and a totals row, then
 * the top clients and the panels if asked. With a filter, a column of the lines it left out.
 */
export function formatLogstats(result: LogstatsResult): string {
  const { all } = result;
  const filtering = all.filtered !== undefined;
  // With --by, the rows are days (or hours) across every file; else, the files. A day's row
  // has no filtered count: a line left out by --since or --until belongs to no row shown.
  const rows = (
    result.groups?.map((g) => [g.key, g.total, g.ip, g.malformed, undefined] as const) ??
    result.files.map((f) => [printable(f.file), f.total, f.ip, f.malformed, f.filtered] as const)
  ).map(([name, total, ip, malformed, filtered]) => [
    name,
    count(total),
    count(ip),
    count(malformed),
    ...(filtering ? [filtered === undefined ? '' : count(filtered)] : []),
  ]);
  rows.push([
    style('bold', `all (${plural(all.files, 'file')})`),
    style('bold', count(all.total)),
    style('bold', count(all.ip)),
    style('bold', count(all.malformed)),
    ...(filtering ? [style('bold', count(all.filtered ?? 0))] : []),
  ]);
  const head = [
    result.by ?? 'file',
    'total',
    'ip',
    'malformed',
    ...(filtering ? ['filtered'] : []),
  ];
  const lines = [table(head, rows)];
  const topBlocks: [string, readonly TopClient[] | undefined][] = [
    ...result.files.map((f): [string, readonly TopClient[] | undefined] => [f.file, f.top]),
    ['all files', all.top],
  ];
  for (const [name, top] of topBlocks) {
    if (!top) continue;
    lines.push('', `busiest clients: ${printable(name)}`);
    lines.push(
      top.length === 0
        ? '  (none)'
        : table(
            ['  ip', 'requests'],
            top.map((t) => [`  ${t.ip}`, count(t.requests)]),
          ),
    );
  }
  // Each file's and group's panels are in --json; the text shows them over everything.
  if (all.panels) lines.push(...formatPanels(all.panels, 'all files'));
  const seconds = result.ms / 1000;
  const mb = all.bytes / 1e6;
  lines.push(
    '',
    style(
      'dim',
      `${mb.toFixed(1)} MB, ${count(all.total)} line${all.total === 1 ? '' : 's'} in ${formatMs(result.ms)}` +
        (seconds > 0 ? ` (${(mb / seconds).toFixed(0)} MB/s)` : '') +
        (result.workers > 0 ? `, ${result.workers} × ${result.runtime}` : ''),
    ),
  );
  return lines.join('\n');
}

/**
 * `--json`: files and all as the issue specifies, plus bytes, ranges, top, failed, ms. Its
 * type is what it returns: `--html` renders the same document.
 */
export function logstatsJson(result: LogstatsResult) {
  return {
    files: result.files,
    all: result.all,
    ...(result.groups ? { groups: result.groups } : {}),
    failed: result.failed,
    warnings: result.warnings,
    ...(result.misread ? { misread: result.misread } : {}),
    ms: round(result.ms),
    workers: result.workers,
    runtime: result.runtime,
  };
}

/** Exit 1 after the report when any input could not be read, naming each with its reason. */
export function checkLogstats(result: LogstatsResult): void {
  const n = result.failed.length;
  if (n === 0) return;
  // The error can quote the path too: escape the whole entry.
  const list = result.failed.map((f) => printable(`${f.file} (${f.error})`)).join('; ');
  throw new ItemFailures(n, `${plural(n, 'file')} could not be read: ${list}`);
}
