/**
 * `JSON.stringify(value, null, 2)`, byte for byte, in pieces. A `--json` report of a million
 * files is ~130 MB of text: as one string it was the run's biggest allocation, and V8 cannot
 * make a string of more than 2^29 characters at all (a RangeError after the whole count).
 */

/** About how many characters each piece holds (the last may be shorter). */
const PIECE = 2 ** 20;

/**
 * Containers this deep or deeper are written by one JSON.stringify each: the document, its
 * lists and their rows are taken apart; what a row holds is small.
 */
const SPLIT_DEPTH = 2;

/** The text in pieces of about PIECE characters, each ending between two of JSON's tokens. */
export function* jsonText(value: unknown): Generator<string, void, undefined> {
  let pending = '';
  for (const part of parts(value, '', 0)) {
    pending += part;
    if (pending.length >= PIECE) {
      yield pending;
      pending = '';
    }
  }
  if (pending !== '') yield pending;
}

function* parts(value: unknown, indent: string, depth: number): Generator<string> {
  const inner = `${indent}  `;
  if (depth < SPLIT_DEPTH && Array.isArray(value) && value.length > 0) {
    for (let i = 0; i < value.length; i++) {
      yield `${i === 0 ? '[' : ','}\n${inner}`;
      // As JSON.stringify: what has no JSON form is null inside a list.
      yield* parts(omitted(value[i]) ? null : value[i], inner, depth + 1);
    }
    yield `\n${indent}]`;
    return;
  }
  if (depth < SPLIT_DEPTH && isPlain(value)) {
    let first = true;
    for (const key of Object.keys(value)) {
      const field = value[key];
      if (omitted(field)) continue; // and left out of an object
      yield `${first ? '{' : ','}\n${inner}${JSON.stringify(key)}: `;
      yield* parts(field, inner, depth + 1);
      first = false;
    }
    yield first ? '{}' : `\n${indent}}`;
    return;
  }
  const text = JSON.stringify(value, null, 2);
  // A newline in JSON.stringify's text is always its own: one inside a string is escaped.
  yield indent === '' ? text : text.replaceAll('\n', `\n${indent}`);
}

/** Values JSON.stringify leaves out of objects (and writes as null in lists). */
const omitted = (value: unknown): boolean =>
  value === undefined || typeof value === 'function' || typeof value === 'symbol';

/** An object JSON.stringify writes as its own fields: no toJSON, no class but Object. */
function isPlain(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return (
    (proto === Object.prototype || proto === null) &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function'
  );
}
