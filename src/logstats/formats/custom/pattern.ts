/**
 * A `--log-format` as crew reads it: literal text and fields in turn, whichever notation it
 * was written in (goaccess.ts, nginx.ts), compiled once into a matcher that reads a line in
 * one pass: the text before the first field must start the line, each field runs to the first
 * place its following text appears (a quote escaped by a backslash does not end a quoted
 * field), and the text after the last field is looked for from the line's end (so the last
 * quoted field, a user agent, may hold quotes). Searches only go forward (the last from the
 * end), so a hostile line of any length is read in time linear in its length. Pure.
 */

/** What a field of the line is to crew. */
export type FieldKind =
  | 'client'
  | 'date'
  | 'time'
  | 'datetime'
  | 'iso8601'
  | 'clf-time'
  | 'epoch'
  | 'request'
  | 'target'
  | 'path'
  | 'status'
  | 'bytes'
  | 'referrer'
  | 'agent'
  | 'skip'
  | 'spaces';

/** One field: its kind and how the notation wrote it (`%h`, `$remote_addr`), for messages. */
export interface Field {
  readonly kind: FieldKind;
  readonly written: string;
}

export type Token = { readonly literal: string } | { readonly field: Field };

/** One step of the matcher: a field, and the text that follows it ('' at the end). */
interface Step {
  readonly field: Field;
  readonly after: Buffer;
  /** Its text opens with a quote and so did the text before the field: `\"` is inside. */
  readonly quoted: boolean;
}

/** Where each field of the last line matched, by step. */
export interface Spans {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
}

/** A compiled pattern: the text before the first field, then the steps. */
export class Matcher {
  readonly #prefix: Buffer;
  readonly steps: readonly Step[];
  readonly spans: Spans;

  /** Compiles tokens; a string says why they cannot be read (two fields with nothing between). */
  static compile(tokens: readonly Token[]): Matcher | string {
    let prefix = '';
    const steps: { field: Field; after: string; quoted: boolean }[] = [];
    for (const token of tokens) {
      if ('literal' in token) {
        const last = steps.at(-1);
        if (last) last.after += token.literal;
        else prefix += token.literal;
        continue;
      }
      const last = steps.at(-1);
      if (
        last &&
        last.after === '' &&
        last.field.kind !== 'spaces' &&
        token.field.kind !== 'spaces'
      ) {
        return `${last.field.written} and ${token.field.written} have nothing between them: crew cannot tell where one ends`;
      }
      const before = last ? last.after : prefix;
      steps.push({ field: token.field, after: '', quoted: before.endsWith('"') });
    }
    for (const step of steps) step.quoted &&= step.after.startsWith('"');
    return new Matcher(
      Buffer.from(prefix),
      steps.map((step) => ({ ...step, after: Buffer.from(step.after) })),
    );
  }

  private constructor(prefix: Buffer, steps: readonly Step[]) {
    this.#prefix = prefix;
    this.steps = steps;
    this.spans = { starts: new Int32Array(steps.length), ends: new Int32Array(steps.length) };
  }

  /**
   * Matches the line `bytes[start, end)`, each field's bounds into `spans`: undefined when it
   * matches, else why not.
   */
  match(bytes: Uint8Array, start: number, end: number): string | undefined {
    // A view that ends with the line: a search never reads on into the lines after it.
    const line = Buffer.from(bytes.buffer, bytes.byteOffset, end);
    const prefix = this.#prefix;
    if (prefix.length > 0 && !startsWith(line, start, end, prefix)) {
      return `it does not start with "${prefix.toString()}"`;
    }
    let pos = start + prefix.length;
    const { starts, ends } = this.spans;
    const steps = this.steps;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      starts[i] = pos;
      if (step.field.kind === 'spaces') {
        while (pos < end && (line[pos] === 0x20 || line[pos] === 0x09)) pos++;
        ends[i] = pos;
        if (step.after.length === 0) continue;
        if (!startsWith(line, pos, end, step.after)) return expected(step);
        pos += step.after.length;
        continue;
      }
      const after = step.after;
      let to: number;
      if (after.length === 0) to = end;
      else if (i === steps.length - 1) {
        to = end - after.length >= pos ? line.lastIndexOf(after, end - after.length) : -1;
        if (to < pos) return expected(step);
      } else {
        to = find(line, after, pos, step.quoted);
        if (to < 0) return expected(step);
      }
      ends[i] = to;
      pos = to + after.length;
    }
    return undefined;
  }
}

function expected(step: Step): string {
  return `no "${step.after.toString()}" after ${step.field.written}`;
}

function startsWith(line: Buffer, at: number, end: number, text: Buffer): boolean {
  if (end - at < text.length) return false;
  for (let i = 0; i < text.length; i++) if (line[at + i] !== text[i]) return false;
  return true;
}

/**
 * The first `text` in `line` from `from`; in a quoted field, not a quote escaped by an odd
 * run of backslashes. -1 when there is none.
 */
function find(line: Buffer, text: Buffer, from: number, quoted: boolean): number {
  let at = from;
  for (;;) {
    const found = line.indexOf(text, at);
    if (found < 0) return -1;
    if (!quoted || !escaped(line, found, from)) return found;
    at = found + 1;
  }
}

function escaped(line: Buffer, at: number, from: number): boolean {
  let slashes = 0;
  for (let p = at - 1; p >= from && line[p] === 0x5c; p--) slashes++;
  return slashes % 2 === 1;
}
