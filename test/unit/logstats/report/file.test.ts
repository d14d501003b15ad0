import { lstat, mkdir, mkdtemp, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openReportFile, ReportPathError } from '../../../../src/logstats/report/file.ts';

const freshDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'crew-report-'));

describe('the report file', () => {
  it('holds the report under a hidden name until commit, then under its own', async () => {
    const dir = await freshDir();
    const path = join(dir, 'report.html');
    const file = await openReportFile(path);
    const before = await readdir(dir);
    expect(before).toHaveLength(1);
    expect(before[0]).toMatch(/^\.report\.html\.crew-[0-9a-f]{12}$/);
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
