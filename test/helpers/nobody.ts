import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';

/** The unprivileged user tests act as: another local user, or a victim without rights. */
export const NOBODY = 65534;

// Found once on the full PATH: tests hand crew a PATH without the directory that holds it.
const setpriv =
  (process.env['PATH'] ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'setpriv'))
    .find((path) => existsSync(path)) ?? 'setpriv';

const asNobody = [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];

/**
 * Starts `command` as uid/gid 65534 with no supplementary groups. A script it runs (node's
 * bin/crew.js) must be readable by that user: a checkout under a 0700
 * directory (what `mktemp -d` makes) is not, and would fail the test with Node's own
 * "Cannot find module" instead of saying why.
 */
export function spawnAsNobody(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): ChildProcess {
  // setpriv execs the command while it still holds root's capabilities, so only what the
  // started process reads as that user can fail: the script node is given.
  for (const script of args.filter((arg) => arg.endsWith('.js') && isAbsolute(arg))) {
    if (spawnSync(setpriv, [...asNobody, 'test', '-r', script]).status !== 0) {
      throw new Error(
        `uid ${NOBODY} cannot read ${script}: put the checkout where other users can reach it (no 0700 directory above it)`,
      );
    }
  }
  return spawn(setpriv, [...asNobody, command, ...args], options);
}

/**
 * A fresh directory in the temp dir with the given mode, owned by root or by nobody: the
 * temp dir's own mkdtemp directories are 0700 root, out of nobody's reach.
 */
export async function scratchDir(
  prefix: string,
  mode: number,
  owner: 'root' | 'nobody' = 'root',
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  if (owner === 'nobody') await chown(dir, NOBODY, NOBODY);
  await chmod(dir, mode);
  return dir;
}
