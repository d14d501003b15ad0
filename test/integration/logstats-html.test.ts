/**
 * `crew logstats --html FILE` as a user runs it: the page is written whole, under its name,
 * after the scan; a path that cannot take it fails before the scan; a symlink planted at
 * FILE is replaced, not followed.
 */
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runCrew, spawnCrew } from '../helpers/cli.ts';

let dir: string;
let logs: string;
/** Every client the logs hold, counted here. */
const clients = new Set<string>();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-html-'));
  logs = join(dir, 'logs');
  await mkdir(logs);
  // Three days over two files; each file's clients and totals differ.
  for (const [name, lines] of [
    ['a.log', 300],
    ['b.log', 120],
  ] as const) {
    const text = Array.from({ length: lines }, (_, i) => {
      const day = 22 + (i % 3);
      const ip = `10.0.${i % 5}.${i % (name === 'a.log' ? 40 : 9)}`;
      clients.add(ip);
      return `${ip} - - [${day}/Mar/2021:10:00:00 +0000] "GET /x?q=<b> HTTP/1.1" 200 10 "-" "agent \\"quoted\\""`;
    });
    await writeFile(join(logs, name), `${text.join('\n')}\n`);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('logstats --html', () => {
  it('writes the page of the --json numbers, whole, and nothing else beside it', async () => {
    const out = join(dir, 'site');
    await mkdir(out);
    const report = join(out, 'report.html');
    const run = await runCrew(['logstats', logs, '--by', 'day', '--json', '--html', report]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as { all: { total: number; ip: number } };
    expect(json.all).toMatchObject({ total: 420, ip: clients.size });
    expect(await readdir(out)).toEqual(['report.html']);
    const html = await readFile(report, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).toMatch(/data-figure="requests">.*>420</);
    expect(html).toMatch(new RegExp(`data-figure="clients">.*>${clients.size}<`));
    expect(html.split('<svg').length - 1).toBe(2);
    expect(html).toContain('<td>2021-03-24</td>');
  });

  it.each([
    ['a directory that does not exist', 'missing/report.html', /missing: no such directory/],
    ['a path through a file', 'plain/report.html', /plain: a part of the path is not a directory/],
    ['a directory', 'folder', /folder: is a directory/],
  ])('refuses %s before the scan starts: exit 2', async (_, name, message) => {
    const base = await mkdtemp(join(dir, 'bad-'));
    await writeFile(join(base, 'plain'), '');
    await mkdir(join(base, 'folder'));
    // stdin stays open: had the scan started, crew would wait on it until killed.
    const child = spawnCrew(['logstats', '-', '--html', join(base, name)]);
    const run = await collect(child, { keepStdinOpen: true, timeoutMs: 20_000 });
    expect(run.signal).toBeNull();
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('--html ');
    expect(run.stdout).toBe('');
    expect((await readdir(base)).sort()).toEqual(['folder', 'plain']);
  });

  it('replaces a symlink planted at FILE, and leaves its target as it was', async () => {
    const base = await mkdtemp(join(dir, 'link-'));
    const victim = join(base, 'victim.txt');
    await writeFile(victim, 'not a report');
    const report = join(base, 'report.html');
    await symlink(victim, report);
    const run = await runCrew(['logstats', logs, '--html', report]);
    expect(run.code).toBe(0);
    expect((await lstat(report)).isSymbolicLink()).toBe(false);
    expect(await readFile(report, 'utf8')).toContain('<!DOCTYPE html>');
    expect(await readFile(victim, 'utf8')).toBe('not a report');
    expect((await readdir(base)).sort()).toEqual(['report.html', 'victim.txt']);
  });

  it('writes no report when the run is interrupted, and leaves no temporary file', async () => {
    const base = await mkdtemp(join(dir, 'stop-'));
    const child = spawnCrew(['logstats', '-', '--html', join(base, 'report.html')]);
    const done = collect(child, { keepStdinOpen: true, timeoutMs: 20_000 });
    // The temporary file appears once crew has checked the path; then stop the scan.
    for (let i = 0; i < 200 && (await readdir(base)).length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await readdir(base)).toHaveLength(1);
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    expect(await readdir(base)).toEqual([]);
  });

  it('after kill -9, the next run for the same FILE removes the temp file left behind', async () => {
    const base = await mkdtemp(join(dir, 'killed-'));
    const report = join(base, 'report.html');
    const child = spawnCrew(['logstats', '-', '--html', report]);
    const done = collect(child, { keepStdinOpen: true, timeoutMs: 20_000 });
    for (let i = 0; i < 200 && (await readdir(base)).length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    const left = await readdir(base);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(new RegExp(`^\\.report\\.html\\.crew-${child.pid}-\\d+-[0-9a-f]{12}$`));
    const run = await runCrew(['logstats', logs, '--html', report]);
    expect(run.code).toBe(0);
    expect(await readdir(base)).toEqual(['report.html']);
  });

  it('on a full disk: names the report, says the disk is full, and leaves the old one', async () => {
    // A small file system of its own (tests run as root, as download-disk's do), filled to
    // the last page: creating the empty temp file still works, writing the page does not.
    const disk = await mkdtemp(join(dir, 'full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]);
    try {
      const report = join(disk, 'report.html');
      await writeFile(report, 'the last report');
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${join(disk, 'filler')}`, 'bs=4k'], {
          stdio: 'ignore',
        });
      } catch {
        // dd ends with an error once the disk is full: what it is here for
      }
      const run = await runCrew(['logstats', logs, '--html', report]);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `crew: --html ${report}: cannot write it: the disk is full (no space left on the device)\n`,
      );
      expect(await readFile(report, 'utf8')).toBe('the last report');
      expect((await readdir(disk)).sort()).toEqual(['filler', 'report.html']);
    } finally {
      execFileSync('umount', [disk]);
    }
  });
});
