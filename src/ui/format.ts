import { styleText } from 'node:util';

/** Pure text helpers shared by the commands' report formatters. */

/** Aligned columns; a column whose every cell is a number aligns right. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  // A loop, not Math.max(...cells): a column of 300,000 files overflowed the call stack.
  const widths = header.map((cell) => cell.length);
  for (const row of rows) {
    for (let c = 0; c < widths.length; c++) widths[c] = Math.max(widths[c]!, (row[c] ?? '').length);
  }
  const numeric = header.map((_, c) => rows.every((row) => /^[-\d.,%x× ]*$/.test(row[c] ?? '')));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** A bar of `width` cells for value/max, with eighth-cell resolution. */
export function bar(value: number, max: number, width = 24): string {
  if (!(max > 0) || !(value > 0)) return '';
  const eighths = Math.round((Math.min(value, max) / max) * width * 8);
  const partial = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'][eighths % 8] ?? '';
  return '█'.repeat(Math.floor(eighths / 8)) + partial;
}

/**
 * 1234567 -> "1,234,567". Not toLocaleString: its first call loads ICU's number formatting,
 * ~5 ms of start-up for a report that is always in English.
 */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(1)} ms`;
}

/** 1234567 -> "1.23 million", for rates. */
export function formatSi(value: number): string {
  const units = ['', ' thousand', ' million', ' billion', ' trillion'];
  let i = 0;
  while (Math.abs(value) >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${value.toFixed(i === 0 ? 0 : 2)}${units[i]}`;
}

/** Bold/green/red on a terminal; plain text for pipes and NO_COLOR (styleText checks both). */
export function style(format: 'bold' | 'green' | 'red' | 'dim', text: string): string {
  return styleText(format, text, { stream: process.stdout });
}

/** 1536 -> "1.5 KB", 12345678 -> "12.3 MB" (decimal units, as download tools print). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${value.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** "1 file", "2 files": English plurals for the words crew prints (all regular). */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `x` rounded to `digits` decimals, as a number (for JSON reports). */
export const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

/** The middle value (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/**
 * `, ETA 12 s` for a job `fraction` done after `seconds`; empty before 1% (too early to
 * tell) and at the end.
 */
export function etaText(seconds: number, fraction: number | undefined): string {
  if (!fraction || fraction <= 0.01 || fraction >= 1) return '';
  return `, ETA ${Math.round((seconds / fraction) * (1 - fraction))} s`;
}
