import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * How tests run crew: the built CLI through Node by default, or the single binary when
 * CREW_BIN points at one, so one suite proves both behave the same.
 */
export function crewCommand(): [string, string[]] {
  const bin = process.env['CREW_BIN'];
  return bin ? [bin, []] : [process.execPath, [`${repoRoot}/bin/crew.js`]];
}

export interface CrewRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CrewOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string | undefined>;
  readonly input?: string | Buffer;
  readonly timeoutMs?: number;
}

/** Starts crew as a user would; NO_COLOR so output is plain text. */
export function spawnCrew(args: readonly string[], options: CrewOptions = {}): ChildProcess {
  const [command, prefix] = crewCommand();
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  };
  return spawn(command, [...prefix, ...args], spawnOptions);
}

/** Runs crew to completion and collects its output and exit code. */
export function runCrew(args: readonly string[], options: CrewOptions = {}): Promise<CrewRun> {
  const child = spawnCrew(args, options);
  return collect(child, options);
}

export function collect(child: ChildProcess, options: CrewOptions = {}): Promise<CrewRun> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (options.input !== undefined) child.stdin?.end(options.input);
  else child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 50_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
