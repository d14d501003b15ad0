/** Pure planning for `crew sum`: parsing bounds, splitting ranges, the closed-form check. */

export interface Range {
  readonly start: bigint;
  readonly end: bigint;
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
/** The longest range `sum` accepts: 2^53 numbers (days of work at any speed). */
export const MAX_LENGTH = 2n ** 53n;

const integerPattern = /^([+-]?)(\d+(?:_\d+)*)(?:\.(\d+(?:_\d+)*))?(?:e([+-]?\d{1,3}))?$/i;

/**
 * Parses `100000000`, `1e8`, `100_000_000`, `-5`, `1.5e3` exactly. Returns undefined for
 * anything that is not an integer (`1.5`, `1e-3`, `0x10`, `abc`, ``).
 */
export function parseInteger(text: string): bigint | undefined {
  const match = integerPattern.exec(text.trim());
  if (!match) return undefined;
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  const digits = (whole + fraction).replaceAll('_', '');
  const scale = Number(exponent) - fraction.replaceAll('_', '').length;
  let value = BigInt(digits);
  if (scale >= 0) {
    value *= 10n ** BigInt(scale);
  } else {
    const divisor = 10n ** BigInt(-scale);
    if (value % divisor !== 0n) return undefined;
    value /= divisor;
  }
  return sign === '-' ? -value : value;
}

/**
 * Splits [start, end) into at most `parts` contiguous chunks whose lengths differ by at most
 * one, in order. An empty range has no chunks; a range shorter than `parts` has one chunk per
 * number.
 */
export function planChunks(range: Range, parts: number): Range[] {
  const length = range.end - range.start;
  if (length <= 0n) return [];
  const count = length < BigInt(parts) ? length : BigInt(Math.max(1, parts));
  const base = length / count;
  const extra = length % count;
  const chunks: Range[] = [];
  let start = range.start;
  for (let i = 0n; i < count; i++) {
    const end = start + base + (i < extra ? 1n : 0n);
    chunks.push({ start, end });
    start = end;
  }
  return chunks;
}

/** Blocks small enough to let Ctrl-C through between them in the inline runtime. */
export const MAX_BLOCK = 2n ** 22n;

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/** A block of numbers for the 64-bit kernel, which adds each number less `offset`. */
export interface Block extends Range {
  readonly offset: bigint;
}

/**
 * Cuts [start, end) into blocks of MAX_BLOCK numbers (the last one shorter) whose every
 * partial sum fits a signed 64-bit integer. With each |x| <= M, a block of L numbers never
 * exceeds L * M in magnitude: numbers of everyday size (up to 2^41) are added as they are.
 * Larger ones would overflow, so the kernel adds each less the block's first number (at most
 * L - 1, which always fits), and the caller adds L times that offset back as BigInt:
 * sum(a .. a+L-1) = L * a + sum(0 .. L-1). Every number still costs one addition, so the
 * ends of int64 run as fast as numbers around 0 (they once took blocks of one number each).
 */
export function* planBlocks(start: bigint, end: bigint, maxBlock = MAX_BLOCK): Generator<Block> {
  while (start < end) {
    const limit = end - start < maxBlock ? end : start + maxBlock;
    const largest = abs(start) > abs(limit - 1n) ? abs(start) : abs(limit - 1n);
    const fits = (limit - start) * largest <= INT64_MAX;
    yield { start, end: limit, offset: fits ? 0n : start };
    start = limit;
  }
}

/** Gauss: the sum of [start, end) without adding, to check the workers' result against. */
export function closedFormSum(range: Range): bigint {
  const length = range.end - range.start;
  if (length <= 0n) return 0n;
  return (length * (range.start + range.end - 1n)) / 2n;
}
