/**
 * Lines a `--log-format` could not read: how many, and why for the first few, so a format
 * that does not fit the log says so once on stderr rather than once per line. Travels in
 * scan results and adds up like the counts. Pure.
 */
import { printable } from '../../ui/printable.ts';

/** How many lines a format could not read, and a few of them with the reason. */
export interface Misread {
  readonly lines: number;
  /** At most MISREAD_EXAMPLES, each `why: "line"`, already escaped for a terminal. */
  readonly examples: readonly string[];
}

/** How many examples are kept and shown. */
export const MISREAD_EXAMPLES = 3;

/** How much of a line an example shows. */
const EXCERPT_CHARS = 160;

/** The example for a line read as `text` that could not be read because `why`. */
export function misreadExample(why: string, text: string): string {
  const excerpt = text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}...` : text;
  return `${printable(why)}: "${printable(excerpt)}"`;
}

/** Counts misread lines, keeping the first few examples. */
export class MisreadLines {
  lines = 0;
  readonly examples: string[] = [];

  /** One more line; `example` is only built while more are wanted. */
  add(example: () => string): void {
    this.lines++;
    if (this.examples.length < MISREAD_EXAMPLES) this.examples.push(example());
  }

  /** Another scan's (or part's) misread lines. */
  absorb(other: Misread | undefined): void {
    if (other === undefined) return;
    // A queue worker's result is a row anyone who reaches the database can write.
    if (Number.isSafeInteger(other.lines) && other.lines > 0) this.lines += other.lines;
    if (!Array.isArray(other.examples)) return;
    for (const example of other.examples as unknown[]) {
      if (this.examples.length < MISREAD_EXAMPLES && typeof example === 'string') {
        this.examples.push(example);
      }
    }
  }

  /** As a result's field: undefined when no line was misread. */
  toResult(): Misread | undefined {
    return this.lines > 0 ? { lines: this.lines, examples: [...this.examples] } : undefined;
  }
}
