/** How the report writes numbers: exact counts with separators, sizes, shares. Pure. */
import { formatBytes } from '../../ui/format.ts';

/**
 * 1234567 -> "1,234,567"; a fraction keeps up to 3 decimals (0.1234 -> "0.123"); what is not
 * a finite number is written as it is.
 */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const [whole = '', fraction] = (Number.isInteger(n) ? String(n) : n.toFixed(3)).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const decimals = fraction?.replace(/0+$/, '');
  return decimals ? `${grouped}.${decimals}` : grouped;
}

/** 0.1234 -> "12.3%": a share of 0 to 1. */
export function formatShare(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : String(share);
}

/** 12345678 -> "12.3 MB"; exact counts stay in the tables. */
export function formatSize(bytes: number): string {
  return Number.isFinite(bytes) ? formatBytes(bytes) : String(bytes);
}

/** 1234 ms -> "1.23 s"; below a second in ms. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

/** 1234567 -> "1.2M", 12000 -> "12k": an axis label. */
export function formatCompact(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, unit] of units) {
    if (Math.abs(n) >= size) return `${Number((n / size).toFixed(1))}${unit}`;
  }
  return String(Number(n.toFixed(2)));
}
