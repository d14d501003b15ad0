import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The unprivileged user tests act as: another local user, or a victim without rights. */
export const NOBODY = 65534;

// Found once on the full PATH: tests hand crew a PATH without the directory that holds it.
const setpriv =
  (process.env['PATH'] ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'setpriv'))
    .find((path) => existsSync(path)) ?? 'setpriv';

/** Starts `command` as uid/gid 65534 with no supplementary groups. */
export function spawnAsNobody(
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): ChildProcess {
  return spawn(
    setpriv,
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', command, ...args],
    options,
  );
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
