/**
 * Checks for what a queue worker is handed: a job is data written by whoever can reach the
 * database, so every field of a task's input is checked before the task runs. Each check
 * returns why a value is refused, or undefined. `object<T>` takes one check per field of T,
 * no more and no fewer, so a field added to an input type without a check does not compile.
 */
import { isAbsolute } from 'node:path';
import { printable } from '../ui/printable.ts';

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
    // The name is the row's: cut and escaped, it is said on a terminal.
    if (extra !== undefined) return `unexpected field "${printable(extra.slice(0, 40))}"`;
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

/** Exactly this value (`undefined` too: a field that must be absent). */
export const exactly =
  (expected: unknown, says = `must be ${String(expected)}`): Check =>
  (value) =>
    Object.is(value, expected) ? undefined : says;

/** A string of at most `max` characters (UTF-16 units). */
export const textUpTo =
  (max: number): Check =>
  (value) =>
    typeof value !== 'string'
      ? 'must be a string'
      : value.length > max
        ? `must be at most ${max} characters`
        : undefined;

/** A whole number from 0 to `max` (at most 2^53 - 1). */
export const countUpTo =
  (max: number): Check =>
  (value) =>
    count(value) ?? ((value as number) > max ? `must be at most ${max}` : undefined);

/** A BigInt from `min` to `max`. */
export const bigintIn =
  (min: bigint, max: bigint): Check =>
  (value) =>
    typeof value !== 'bigint'
      ? 'must be a BigInt'
      : value < min || value > max
        ? `must be a BigInt from ${min} to ${max}`
        : undefined;

/** A typed array's constructor (Uint8Array, Uint32Array, ...). */
type TypedArrayType = typeof Uint8Array | typeof Uint16Array | typeof Uint32Array;

/**
 * A typed array of exactly one of these types (never a Buffer, a DataView or another
 * view of the same bytes) of at most `max` items.
 */
export const typedArray =
  (max: number, ...types: readonly TypedArrayType[]): Check =>
  (value) => {
    const type = types.find((t) => value instanceof t && value.constructor === t);
    if (type === undefined) return `must be a ${types.map((t) => t.name).join(' or ')}`;
    return (value as InstanceType<TypedArrayType>).length > max
      ? `must hold at most ${max} items`
      : undefined;
  };

/** A list of exactly these items, each passing its own check. */
export const tuple =
  (...checks: readonly Check[]): Check =>
  (value) => {
    if (!Array.isArray(value)) return 'must be a list';
    if (value.length !== checks.length) return `must hold ${checks.length} items`;
    for (const [i, check] of checks.entries()) {
      const why = check(value[i]);
      if (why !== undefined) return within(String(i), why);
    }
    return undefined;
  };

/** Passes every check, in order (the first reason is the one given). */
export const all =
  (...checks: readonly Check[]): Check =>
  (value) => {
    for (const check of checks) {
      const why = check(value);
      if (why !== undefined) return why;
    }
    return undefined;
  };
