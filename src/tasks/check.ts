/**
 * Checks for what a queue worker is handed: a job is data written by whoever can reach the
 * database, so every field of a task's input is checked before the task runs. Each check
 * returns why a value is refused, or undefined. `object<T>` takes one check per field of T,
 * no more and no fewer, so a field added to an input type without a check does not compile.
 */
import { isAbsolute } from 'node:path';

/** Why `value` is refused, or undefined when it is acceptable. */
export type Check = (value: unknown) => string | undefined;

/** One check per field of T (optional fields too: wrap them in `optional`). */
export type Fields<T> = { readonly [K in keyof T]-?: Check };

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  !ArrayBuffer.isView(value);

/**
 * A field's reason with its name in front: `"range.path" must be absolute`, or for what is
 * said of the field as a whole, `"options": unexpected field "proxy"`.
 */
const within = (key: string, reason: string): string =>
  reason.startsWith('"')
    ? `"${key}.${reason.slice(1)}`
    : reason.startsWith('must')
      ? `"${key}" ${reason}`
      : `"${key}": ${reason}`;

/**
 * A plain object with exactly the fields of T, each passing its check; then `rule` (for what
 * relates fields, such as start <= end) on the checked object.
 */
export function object<T>(fields: Fields<T>, rule?: (value: T) => string | undefined): Check {
  const keys = Object.keys(fields) as (keyof T & string)[];
  return (value) => {
    if (!isObject(value)) return 'must be an object';
    const extra = Object.keys(value).find((key) => !Object.hasOwn(fields, key));
    if (extra !== undefined) return `unexpected field "${extra}"`;
    for (const key of keys) {
      const why = fields[key](value[key]);
      if (why === undefined) continue;
      return Object.hasOwn(value, key) ? within(key, why) : `missing field "${key}"`;
    }
    return rule?.(value as T);
  };
}

/** Absent (undefined) or passing `check`. */
export const optional =
  (check: Check): Check =>
  (value) =>
    value === undefined ? undefined : check(value);

/** One of these exact values. */
export const oneOf =
  (...values: readonly unknown[]): Check =>
  (value) =>
    values.includes(value) ? undefined : `must be one of ${values.map(String).join(', ')}`;

export const bool: Check = (value) =>
  typeof value === 'boolean' ? undefined : 'must be a boolean';

export const text: Check = (value) => (typeof value === 'string' ? undefined : 'must be a string');

export const bigint: Check = (value) =>
  typeof value === 'bigint' ? undefined : 'must be a BigInt';

/** A whole number from 0 to 2^53 - 1. */
export const count: Check = (value) =>
  Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'must be a whole number';

/** A whole number, negative too, within 2^53. */
export const integer: Check = (value) =>
  Number.isSafeInteger(value) ? undefined : 'must be an integer';

/** A list whose items all pass `check`, at most `max` of them. */
export const list =
  (check: Check, max: number): Check =>
  (value) => {
    if (!Array.isArray(value)) return 'must be a list';
    if (value.length > max) return `must hold at most ${max} items`;
    for (const [i, item] of value.entries()) {
      const why = check(item);
      if (why !== undefined) return within(String(i), why);
    }
    return undefined;
  };

/** Names to strings (HTTP headers), at most `max` of them. */
export const textRecord =
  (max: number): Check =>
  (value) =>
    !isObject(value)
      ? 'must be an object'
      : Object.keys(value).length > max
        ? `must hold at most ${max} fields`
        : Object.values(value).every((v) => typeof v === 'string')
          ? undefined
          : 'must hold only strings';

/**
 * An absolute path: a string, or the bytes of a name that is not UTF-8 (a Buffer, which the
 * queue carries as a Uint8Array), starting with `/`.
 */
export const absolutePath: Check = (value) =>
  typeof value === 'string'
    ? isAbsolute(value) && !value.includes('\0')
      ? undefined
      : 'must be an absolute path'
    : value instanceof Uint8Array
      ? value[0] === 0x2f && !value.includes(0)
        ? undefined
        : 'must be an absolute path'
      : 'must be a path';

/** A whole number from `min` to `max`. */
export const wholeIn =
  (min: number, max: number): Check =>
  (value) =>
    Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max
      ? undefined
      : `must be a whole number from ${min} to ${max}`;

/** A number (not NaN, not infinite) from `min` to `max`. */
export const numberIn =
  (min: number, max: number): Check =>
  (value) =>
    typeof value === 'number' && value >= min && value <= max
      ? undefined
      : `must be a number from ${min} to ${max}`;
