/**
 * A bar chart as inline SVG (nothing fetched, no script): one bar per --by group, a y axis
 * with round ticks, and as many x labels as fit; each bar's exact value shows on hover. Pure.
 */
import { escapeHtml } from './escape.ts';
import { formatCompact, formatNumber } from './figures.ts';

export interface Series {
  readonly title: string;
  /** One label per bar (a day, an hour). */
  readonly labels: readonly string[];
  readonly values: readonly number[];
  /** A CSS class that colours the bars. */
  readonly tone: string;
}

const WIDTH = 960;
const HEIGHT = 240;
const LEFT = 96;
const RIGHT = 12;
const TOP = 16;
const BOTTOM = 58;
/** Room for a slanted x label: at most this many are written. */
const MAX_LABELS = 16;

/** The chart of one series, as an `<svg>` element with a title for screen readers. */
export function barChartSvg(series: Series): string {
  const { labels, values } = series;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const ticks = axisTicks(Math.max(0, ...values.filter(Number.isFinite)));
  const top = ticks.at(-1) ?? 1;
  const y = (v: number): number => TOP + plotHeight - (Math.max(0, v) / top) * plotHeight;
  const slot = plotWidth / Math.max(1, values.length);
  // A few groups get bars, not walls.
  const barWidth = Math.min(48, Math.max(1, slot * 0.8));
  const parts: string[] = [];
  for (const tick of ticks) {
    parts.push(
      `<line class="grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${fixed(y(tick))}" y2="${fixed(y(tick))}"/>`,
      `<text class="tick" x="${LEFT - 6}" y="${fixed(y(tick) + 4)}" text-anchor="end">${formatCompact(tick)}</text>`,
    );
  }
  values.forEach((value, i) => {
    const v = Number.isFinite(value) ? value : 0;
    const x = LEFT + i * slot + (slot - barWidth) / 2;
    parts.push(
      `<rect class="bar ${series.tone}" x="${fixed(x)}" y="${fixed(y(v))}" width="${fixed(barWidth)}" height="${fixed(TOP + plotHeight - y(v))}">` +
        `<title>${escapeHtml(`${labels[i] ?? ''}: ${formatNumber(value)}`)}</title></rect>`,
    );
  });
  // Short labels (hours of the day) fit three times as many.
  const short = labels.every((label) => label.length <= 5);
  const every = Math.ceil(values.length / (short ? MAX_LABELS * 3 : MAX_LABELS));
  labels.forEach((label, i) => {
    if (i % every !== 0) return;
    const x = fixed(LEFT + i * slot + slot / 2);
    const yText = TOP + plotHeight + 14;
    parts.push(
      `<text class="tick" x="${x}" y="${yText}" text-anchor="end" transform="rotate(-30 ${x} ${yText})">${escapeHtml(label)}</text>`,
    );
  });
  parts.push(
    `<line class="axis" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${TOP + plotHeight}" y2="${TOP + plotHeight}"/>`,
  );
  return (
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(series.title)}" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${escapeHtml(series.title)}</title>${parts.join('')}</svg>`
  );
}

/** Round ticks from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten, about 4 of them. */
export function axisTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  // Counts are whole: no step below 1.
  const step = Math.max(1, ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power);
  const ticks: number[] = [];
  for (let t = 0; t < max + step; t += step) ticks.push(t);
  return ticks;
}

const fixed = (n: number): string => n.toFixed(1);
