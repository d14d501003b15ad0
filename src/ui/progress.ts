import ora, { type Ora } from 'ora';

/** A status line on stderr: only when stderr is a terminal and --quiet is off. */
export interface Progress {
  update(text: string): void;
  stop(): void;
}

export function createProgress(options: { readonly quiet: boolean }, initial: string): Progress {
  if (options.quiet || !process.stderr.isTTY) return { update() {}, stop() {} };
  const spinner: Ora = ora({
    text: initial,
    stream: process.stderr,
    discardStdin: false,
    // chalk (inside ora) ignores NO_COLOR; Node's own check does not.
    color: process.stderr.hasColors() ? 'cyan' : false,
  }).start();
  return {
    update(text) {
      spinner.text = text;
    },
    stop() {
      spinner.stop();
    },
  };
}
