/**
 * bin/crew.js, the entry `npm` users run: where it keeps V8's compile cache, and that no
 * temp dir stops it (the single binary keeps its cache in its own checked folder).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp-dirs.ts';

const temp = tempDirs();
const uid = process.getuid!();

/** `crew sum 1e3 --json` through bin/crew.js with TMPDIR set, in folder `cwd`. */
function sum(tmp: string, cwd = repoRoot): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, [join(repoRoot, 'bin/crew.js'), 'sum', '1e3', '--json'], {
    cwd,
    env: { ...process.env, TMPDIR: tmp, NODE_COMPILE_CACHE: undefined },
    encoding: 'utf8',
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  return { status: run.status, stderr: run.stderr };
}

describe('bin/crew.js and the compile cache', () => {
  it('keeps it in a private folder of its own in the temp dir, not in the shared one', () => {
    const tmp = temp.make('crew-entry-');
    expect(sum(tmp).status).toBe(0);
    const own = join(tmp, `crew-compile-cache-${uid}`);
    expect(statSync(own).mode & 0o777).toBe(0o700);
    expect(readdirSync(own).length).toBeGreaterThan(0);
    expect(readdirSync(tmp)).toEqual([`crew-compile-cache-${uid}`]);
  });

  it('uses no folder another could have made or changed, nor one through a link', () => {
    const open = temp.make('crew-entry-');
    mkdirSync(join(open, `crew-compile-cache-${uid}`));
    chmodSync(join(open, `crew-compile-cache-${uid}`), 0o777);
    const linked = temp.make('crew-entry-');
    mkdirSync(join(linked, 'elsewhere'), { mode: 0o700 });
    symlinkSync(join(linked, 'elsewhere'), join(linked, `crew-compile-cache-${uid}`));
    // A temp dir anyone may write in, not sticky: they could swap the folder.
    const shared = temp.make('crew-entry-');
    chmodSync(shared, 0o777);
    for (const tmp of [open, linked, shared]) expect(sum(tmp).status).toBe(0);
    expect(readdirSync(join(open, `crew-compile-cache-${uid}`))).toEqual([]);
    expect(readdirSync(join(linked, 'elsewhere'))).toEqual([]);
    expect(readdirSync(shared)).toEqual([`crew-compile-cache-${uid}`]);
    expect(readdirSync(join(shared, `crew-compile-cache-${uid}`))).toEqual([]);
  });

  it('runs without one when the temp dir is under /proc, relative or missing', () => {
    const cwd = temp.make('crew-entry-');
    for (const tmp of ['/proc', '/proc/self', 'relative', join(cwd, 'missing', 'x')]) {
      expect(sum(tmp, cwd)).toEqual({ status: 0, stderr: '' });
    }
    expect(readdirSync(cwd)).toEqual([]);
  });
});
