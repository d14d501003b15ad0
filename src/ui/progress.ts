import type { Ora } from 'ora';
import { printable } from './printable.ts';

/** A status line on stderr: only when stderr is a terminal and --quiet is off. */
export interface Progress {
  update(text: string): void;
  /** Writes a line of its own to stderr above the spinner, which goes on below it. */
  say(line: string): void;
  stop(): void;
}

/**
 * Starts a spinner on stderr. ora is loaded only when a spinner will really show, so runs
 * in pipes and scripts (and `crew --version`) do not pay for it.
 */
export function createProgress(options: { readonly quiet: boolean }, initial: string): Progress {
  // A terminal that reports no width (`script`, some container ttys) is skipped too: ora
  // divides by the width to count the lines it must clear, gets Infinity, and never returns.
  if (options.quiet || !process.stderr.isTTY || !(process.stderr.columns > 0)) {
    return {
      update() {},
      say: (line) => void process.stderr.write(`${printable(line)}\n`),
      stop() {},
    };
  }
  // A progress line may quote input (a worker's job names a URL): escaped, on one line.
  let text = printable(initial);
  let spinner: Ora | undefined;
  let stopped = false;
  void import('ora').then(({ default: ora }) => {
    if (stopped) return;
    spinner = ora({
      text,
      stream: process.stderr,
      discardStdin: false,
      // chalk (inside ora) ignores NO_COLOR; Node's own check does not.
      color: process.stderr.hasColors() ? 'cyan' : false,
    }).start();
  });
  return {
    update(next) {
      text = printable(next);
      if (spinner) spinner.text = text;
    },
    say(line) {
      spinner?.clear();
      process.stderr.write(`${printable(line)}\n`);
      spinner?.render();
    },
    stop() {
      stopped = true;
      spinner?.stop();
    },
  };
}
