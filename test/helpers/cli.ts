import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * PATH without any directory that holds a `node` or lies in a node_modules: what a machine
 * without Node (and without this repository) has.
 */
export const pathWithoutNode = (process.env['PATH'] ?? '')
  .split(delimiter)
  .filter((dir) => dir !== '' && !existsSync(join(dir, 'node')) && !dir.includes('node_modules'))
  .join(delimiter);

/** The copies isolatedCopy made: the only paths removeCopy removes. */
const copies = new Set<string>();

/**
 * Copies a binary alone into a fresh empty directory; returns its new path. `removeCopy`
 * takes it away again: a copy is 150 MB, and one per test file left gigabytes in /tmp.
 */
export function isolatedCopy(binary: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'crew-bin-'));
  const target = join(dir, 'crew');
  try {
    copyFileSync(resolve(repoRoot, binary), target);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  copies.add(target);
  return target;
}

/**
 * Removes a copy `isolatedCopy` made, and its directory; anything else is left alone. When
 * the binary was not built, the copy failed and a test file's afterAll passed '' here:
 * dirname('') is '.', and the whole checkout it ran in was removed.
 */
export function removeCopy(copy: string): void {
  if (!copies.delete(copy)) return;
  rmSync(dirname(copy), { recursive: true, force: true });
}

// With CREW_BIN, every spawn runs that binary copied alone, with no Node on PATH and a
// private cache dir: the integration suite then proves the binary behaves like the CLI.
// Both go when the test file that imported this is done.
const binary = process.env['CREW_BIN'] ? isolatedCopy(process.env['CREW_BIN']) : undefined;
const binaryCache = binary ? mkdtempSync(join(tmpdir(), 'crew-cache-')) : undefined;
const binaryEnv = binary ? { PATH: pathWithoutNode, XDG_CACHE_HOME: binaryCache! } : {};
if (binary) {
  afterAll(() => {
    removeCopy(binary);
    rmSync(binaryCache!, { recursive: true, force: true });
  });
}

/**
 * How tests run crew: the built CLI through Node by default, or the single binary when
 * CREW_BIN points at one, so one suite proves both behave the same.
 */
export function crewCommand(): [string, string[]] {
  return binary ? [binary, []] : [process.execPath, [`${repoRoot}/bin/crew.js`]];
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
  /** A file descriptor to give crew as its stdin, instead of a pipe. */
  readonly stdin?: number;
  readonly timeoutMs?: number;
  /** Leave stdin open (an idle pipe) instead of ending it after `input`. */
  readonly keepStdinOpen?: boolean;
  /** Where crew's stdin, stdout and stderr go: pipes unless a test says otherwise. */
  readonly stdio?: SpawnOptions['stdio'];
}

/** Starts crew as a user would; NO_COLOR so output is plain text. */
export function spawnCrew(args: readonly string[], options: CrewOptions = {}): ChildProcess {
  const [command, prefix] = crewCommand();
  return spawn(command, [...prefix, ...args], spawnOptions(options));
}

/**
 * Starts crew under another program that runs the command it is given (`strace ... --`),
 * found on this process's PATH.
 */
export function spawnCrewUnder(
  wrapper: readonly [string, ...string[]],
  args: readonly string[],
  options: CrewOptions = {},
): ChildProcess {
  const [command, prefix] = crewCommand();
  const [program, ...rest] = wrapper;
  return spawn(which(program), [...rest, command, ...prefix, ...args], spawnOptions(options));
}

function spawnOptions(options: CrewOptions): SpawnOptions {
  return {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...binaryEnv, ...options.env },
    stdio: options.stdio ?? [options.stdin ?? 'pipe', 'pipe', 'pipe'],
  };
}

/** A program's full path from this process's PATH (tests may hand crew a narrower one). */
function which(program: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, program))) return join(dir, program);
  }
  throw new Error(`${program} is not on PATH`);
}

/**
 * Starts crew on a pseudo-terminal of `columns` columns (0: one that reports no width), as
 * from an interactive shell, through util-linux `script`. Everything crew prints arrives
 * on stdout, terminal escapes included.
 */
export function spawnCrewOnTerminal(
  args: readonly string[],
  columns: number,
  options: CrewOptions = {},
): ChildProcess {
  const [command, prefix] = crewCommand();
  const quote = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`;
  const line =
    `${quote(which('stty'))} cols ${columns} rows 24; ` +
    `exec ${[command, ...prefix, ...args].map(quote).join(' ')}`;
  return spawn(
    which('script'),
    ['--quiet', '--return', '--command', line, '/dev/null'],
    spawnOptions(options),
  );
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
  else if (!options.keepStdinOpen) child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 50_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Waits until process `pid` catches `signal` as crew does, so a test's signal means
 * "interrupt the work", not "kill a process still starting". Node itself catches SIGINT and
 * SIGTERM from its first instant (to restore the terminal, then die), so the SigCgt mask in
 * /proc alone says nothing: the process must also be well past Node's bootstrap (~40 ms of
 * CPU) and into crew's entry, which holds signals from its first line. That is 100 ms of CPU
 * time, or, for a command that starts in less and then waits on its input (a warm compile
 * cache makes `logstats -` that quick), asleep at every look for the last 200 ms: Node's
 * bootstrap never waits that long (it reads its files synchronously), crew's wait does.
 */
export async function untilCatches(
  pid: number,
  signal: 'SIGINT' | 'SIGTERM',
  timeoutMs = 20_000,
): Promise<void> {
  const bit = 1n << BigInt(signal === 'SIGINT' ? 1 : 14);
  let asleep = 0;
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    // The state, then utime and stime in clock ticks (100 a second), after the command name.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    asleep = fields[0] === 'S' ? asleep + 1 : 0;
    const catches = mask !== undefined && (BigInt(`0x${mask}`) & bit) !== 0n;
    if (catches && (ticks >= 10 || asleep >= 10)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`process ${pid} did not start catching ${signal}`);
}

/** The processes whose parent is `pid` (crew's child-process workers, or crew under `script`). */
export function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['--ppid', String(pid), '-o', 'pid='], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim())
      .map(Number);
  } catch {
    return []; // ps exits 1 when there are none
  }
}
