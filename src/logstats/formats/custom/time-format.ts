/**
 * Date and time formats in strptime's notation, as GoAccess's --date-format, --time-format
 * and --datetime-format take them (`%d/%b/%Y`, `%H:%M:%S`, `%Y-%m-%dT%H:%M:%S%z`): compiled
 * once into a list of steps, each reading a fixed kind of text, so a value is read in one
 * pass with no backtracking. Pure.
 */

/** What one value said of the time; a field it did not hold stays undefined. */
export interface TimeParts {
  year?: number | undefined;
  month?: number | undefined;
  day?: number | undefined;
  hour?: number | undefined;
  minute?: number | undefined;
  second?: number | undefined;
  offsetMinutes?: number | undefined;
  /** Seconds since 1970 (`%s`), an instant. */
  epoch?: number | undefined;
}

type Step =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'number'; readonly part: keyof TimeParts; readonly most: number }
  | { readonly kind: 'month-name' }
  | { readonly kind: 'year2' }
  | { readonly kind: 'offset' }
  | { readonly kind: 'fraction' }
  | { readonly kind: 'epoch' }
  | { readonly kind: 'spaces' };

/** The conversions crew reads, and what each stands for. */
const CONVERSIONS: Record<string, Step | string> = {
  Y: { kind: 'number', part: 'year', most: 4 },
  y: { kind: 'year2' },
  m: { kind: 'number', part: 'month', most: 2 },
  d: { kind: 'number', part: 'day', most: 2 },
  e: { kind: 'number', part: 'day', most: 2 },
  b: { kind: 'month-name' },
  h: { kind: 'month-name' },
  H: { kind: 'number', part: 'hour', most: 2 },
  M: { kind: 'number', part: 'minute', most: 2 },
  S: { kind: 'number', part: 'second', most: 2 },
  z: { kind: 'offset' },
  f: { kind: 'fraction' },
  s: { kind: 'epoch' },
  T: '%H:%M:%S',
  F: '%Y-%m-%d',
  D: '%m/%d/%y',
  R: '%H:%M',
};

/** What `--date-format` and its kin take, for the message that refuses one. */
export const TIME_FORMAT_SYNTAX =
  'strptime conversions %Y %y %m %d %e %b %h %H %M %S %z %f %s %T %F %D %R %% and literal text';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** A compiled time format. */
export class TimeFormat {
  readonly #steps: readonly Step[];
  /** The format as given, for messages. */
  readonly text: string;

  private constructor(text: string, steps: readonly Step[]) {
    this.text = text;
    this.#steps = steps;
  }

  /** Compiles `text`; a string says why it cannot be. */
  static compile(text: string): TimeFormat | string {
    const steps: Step[] = [];
    const expand = (format: string, depth: number): string | undefined => {
      for (let i = 0; i < format.length; i++) {
        const char = format[i]!;
        if (char === ' ') {
          steps.push({ kind: 'spaces' });
          continue;
        }
        if (char !== '%') {
          literal(steps, char);
          continue;
        }
        const name = format[++i];
        if (name === undefined) return 'it ends in a lone %';
        if (name === '%') {
          literal(steps, '%');
          continue;
        }
        const step = CONVERSIONS[name];
        if (step === undefined) return `%${name} is not one crew reads`;
        if (typeof step === 'string') {
          const why = depth > 0 ? 'nested' : expand(step, depth + 1);
          if (why !== undefined) return why;
        } else steps.push(step);
      }
      return undefined;
    };
    const why = expand(text, 0);
    if (why !== undefined) return `"${text}": ${why} (it takes ${TIME_FORMAT_SYNTAX})`;
    if (steps.every((step) => step.kind === 'literal' || step.kind === 'spaces')) {
      return `"${text}" reads no part of a time (it takes ${TIME_FORMAT_SYNTAX})`;
    }
    return new TimeFormat(text, steps);
  }

  /** Reads `value` whole into `parts`; false when it does not match. */
  read(value: string, parts: TimeParts): boolean {
    let at = 0;
    for (const step of this.#steps) {
      const next = readStep(step, value, at, parts);
      if (next < 0) return false;
      at = next;
    }
    return at === value.length;
  }
}

function literal(steps: Step[], char: string): void {
  const last = steps.at(-1);
  if (last?.kind === 'literal')
    steps[steps.length - 1] = { kind: 'literal', text: last.text + char };
  else steps.push({ kind: 'literal', text: char });
}

const isDigit = (code: number): boolean => code >= 48 && code <= 57;

/** Up to `most` digits at `at` (at least one): [value, next], or undefined. */
function digits(value: string, at: number, most: number): [number, number] | undefined {
  let n = 0;
  let p = at;
  while (p < value.length && p - at < most && isDigit(value.charCodeAt(p))) {
    n = n * 10 + value.charCodeAt(p) - 48;
    p++;
  }
  return p === at ? undefined : [n, p];
}

/** Reads one step at `at`: where the next starts, or -1. */
function readStep(step: Step, value: string, at: number, parts: TimeParts): number {
  switch (step.kind) {
    case 'literal':
      return value.startsWith(step.text, at) ? at + step.text.length : -1;
    case 'spaces': {
      let p = at;
      while (value[p] === ' ' || value[p] === '\t') p++;
      return p;
    }
    case 'number': {
      const read = digits(value, at, step.most);
      if (!read) return -1;
      parts[step.part] = read[0];
      return read[1];
    }
    case 'year2': {
      const read = digits(value, at, 2);
      if (!read) return -1;
      // POSIX: 69-99 are 1969-1999, 00-68 are 2000-2068.
      parts.year = read[0] + (read[0] >= 69 ? 1900 : 2000);
      return read[1];
    }
    case 'month-name': {
      const month = MONTHS.indexOf(value.slice(at, at + 3).toLowerCase());
      if (month < 0) return -1;
      parts.month = month + 1;
      return at + 3;
    }
    case 'fraction': {
      const read = digits(value, at, 9);
      return read ? read[1] : -1;
    }
    case 'epoch': {
      const read = digits(value, at, 12);
      if (!read) return -1;
      parts.epoch = read[0];
      // Nginx's $msec and the like: milliseconds after a dot.
      if (value[read[1]] === '.') {
        const fraction = digits(value, read[1] + 1, 9);
        return fraction ? fraction[1] : read[1];
      }
      return read[1];
    }
    case 'offset':
      return readOffset(value, at, parts);
  }
}

/** `+0200`, `-05:30` or `Z`. */
function readOffset(value: string, at: number, parts: TimeParts): number {
  if (value[at] === 'Z' || value[at] === 'z') {
    parts.offsetMinutes = 0;
    return at + 1;
  }
  const sign = value[at] === '-' ? -1 : value[at] === '+' ? 1 : 0;
  if (sign === 0) return -1;
  const hours = digits(value, at + 1, 2);
  if (!hours || hours[1] !== at + 3) return -1;
  let p = hours[1];
  if (value[p] === ':') p++;
  const minutes = digits(value, p, 2);
  if (!minutes || minutes[1] !== p + 2 || minutes[0] > 59) return -1;
  parts.offsetMinutes = sign * (hours[0] * 60 + minutes[0]);
  return minutes[1];
}
