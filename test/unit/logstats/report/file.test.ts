import {
  chown,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  openReportFile,
  ReportPathError,
  tempName,
  tempOwner,
} from '../../../../src/logstats/report/file.ts';
import { startOf } from '../../../../src/process-start.ts';

const made: string[] = [];
/** A new empty directory, removed after the test. */
const freshDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'crew-report-'));
  made.push(dir);
  return dir;
};
afterEach(() =>
  Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true }))),
);

describe('the report file', () => {
  it('holds the report under a hidden name until commit, then under its own', async () => {
    const dir = await freshDir();
    const path = join(dir, 'report.html');
    const file = await openReportFile(path);
    const before = await readdir(dir);
    expect(before).toHaveLength(1);
    const started = startOf(process.pid)!;
    expect(before[0]).toMatch(
      new RegExp(`^\\.report\\.html\\.crew-${process.pid}-${started}-[0-9a-f]{12}$`),
    );
    await file.commit('<p>done</p>');
    await file.discard();
    expect(await readdir(dir)).toEqual(['report.html']);
    expect(await readFile(path, 'utf8')).toBe('<p>done</p>');
  });

  it('leaves nothing behind when discarded before commit', async () => {
    const dir = await freshDir();
    const file = await openReportFile(join(dir, 'report.html'));
    await file.discard();
    await file.discard();
    expect(await readdir(dir)).toEqual([]);
  });

  it('replaces a symlink at its path, never writing through it', async () => {
    const dir = await freshDir();
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'keep me');
    const path = join(dir, 'report.html');
    await symlink(victim, path);
    const file = await openReportFile(path);
    await file.commit('report');
    expect((await lstat(path)).isSymbolicLink()).toBe(false);
    expect(await readFile(path, 'utf8')).toBe('report');
    expect(await readFile(victim, 'utf8')).toBe('keep me');
  });

  it.each([
    [
      'a directory that does not exist',
      'missing/report.html',
      /cannot write a file in .*missing: no such directory/,
    ],
    ['a path through a file', 'plain/report.html', /plain: a part of the path is not a directory/],
    ['a directory', 'sub', /^is a directory$/],
  ])('refuses %s, saying why', async (_, name, message) => {
    const dir = await freshDir();
    await writeFile(join(dir, 'plain'), '');
    await mkdir(join(dir, 'sub'));
    const error: unknown = await openReportFile(join(dir, name)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportPathError);
    expect((error as Error).message).toMatch(message);
    expect((await readdir(dir)).sort()).toEqual(['plain', 'sub']);
  });
});

describe('the temporary name', () => {
  it.each([
    ['.report.html.crew-123-456789-0123456789ab', { pid: 123, started: '456789' }],
    ['.report.html.crew-0123456789ab', undefined], // no pid: an older crew's, or no /proc
    ['.report.html.crew-123-456789-0123456789ab.x', undefined],
    ['.report.html.crew-123-456789-0123456789AB', undefined],
    ['.report.html.crew-0-456789-0123456789ab', undefined],
    ['.report.html.crew--1-456789-0123456789ab', undefined],
    ['.other.html.crew-123-456789-0123456789ab', undefined],
    ['.report.htm.crew-123-456789-0123456789ab', undefined],
    ['report.html.crew-123-456789-0123456789ab', undefined],
  ])('%s is a run %o', (name, owner) => {
    expect(tempOwner(name, 'report.html')).toEqual(owner);
  });

  it('is read back as its run', () => {
    expect(tempOwner(tempName('a b.html', 42, '99'), 'a b.html')).toEqual({
      pid: 42,
      started: '99',
    });
    expect(tempOwner(tempName('a.html', 42, undefined), 'a.html')).toBeUndefined();
  });
});

describe('what a killed run left', () => {
  /** The temp name a run of this pid that started at another time (so is gone) would use. */
  const deadName = (base: string): string => tempName(base, process.pid, '1');

  it('removes a dead run’s temp file for the same report, and keeps everything else', async () => {
    const dir = await freshDir();
    const dead = deadName('report.html');
    await writeFile(join(dir, dead), '<p>half');
    // Still running: this process, as it started.
    const live = tempName('report.html', process.pid, startOf(process.pid));
    await writeFile(join(dir, live), 'a live run’s');
    const otherReport = deadName('other.html');
    await writeFile(join(dir, otherReport), 'another report’s');
    const older = '.report.html.crew-0123456789ab';
    await writeFile(join(dir, older), 'no pid: cannot tell');
    const file = await openReportFile(join(dir, 'report.html'));
    await file.discard();
    expect((await readdir(dir)).sort()).toEqual([older, otherReport, live].sort());
  });

  it('never follows nor removes a symlink, a folder, a linked file or another user’s file', async () => {
    const dir = await freshDir();
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'keep me');
    const names = Array.from({ length: 4 }, () => deadName('report.html'));
    await symlink(victim, join(dir, names[0]!));
    await mkdir(join(dir, names[1]!));
    await link(victim, join(dir, names[2]!));
    await writeFile(join(dir, names[3]!), 'not ours');
    // Tests run as root: the file is then another user's (nobody's).
    await chown(join(dir, names[3]!), 65534, 65534);
    const file = await openReportFile(join(dir, 'report.html'));
    await file.discard();
    expect((await readdir(dir)).sort()).toEqual([...names, 'victim.txt'].sort());
    expect(await readFile(victim, 'utf8')).toBe('keep me');
    expect((await lstat(join(dir, names[0]!))).isSymbolicLink()).toBe(true);
  });
});
