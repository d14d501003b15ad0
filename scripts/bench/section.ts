/** What every benchmark section gets and gives back; scripts/bench.ts runs the sections. */

export interface BenchContext {
  /** Command and leading arguments that run the built crew, e.g. [node, bin/crew.js]. */
  readonly crew: readonly string[];
  /** Repository root. */
  readonly root: string;
  /** A scratch directory for generated data (under bench-results/, never committed). */
  readonly scratch: string;
  /** `npm run bench -- --quick`: fewer and smaller runs, for trying the harness out. */
  readonly quick: boolean;
  /** `--name=value` options on the bench's command line (a section documents its own). */
  readonly options: ReadonlyMap<string, string>;
  /** Progress and notes for the person running the bench (stderr). */
  readonly log: (line: string) => void;
}

export interface BenchSection {
  readonly title: string;
  /** Markdown: tables of medians and the ratios the issue targets. */
  readonly markdown: string;
  /** The same numbers as data, written to bench-results/bench.json. */
  readonly data: unknown;
}

export type BenchRunner = (context: BenchContext) => Promise<BenchSection>;
