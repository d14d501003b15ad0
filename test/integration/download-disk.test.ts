/**
 * download-csv against the file system as it really is: a file-size limit, a disk that fills
 * up, an --out crew may not write, a manifest planted as a link, two runs on one --out.
 * Whatever happens, a row recorded ok is on disk whole, and nothing crashes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, crewCommand, runCrew, spawnCrew } from '../helpers/cli.ts';
import { scratchDir, spawnAsNobody } from '../helpers/nobody.ts';
import { startImageServer, type ImageServer } from '../helpers/image-server.ts';

interface Line {
  row: number;
  status: string;
  file: string | null;
  bytes: number;
  sha256: string | null;
  error: string | null;
}

// No proxy may stand between crew and the loopback image server.
const env = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '*' };
let server: ImageServer;
let dir: string;
let disk: string | undefined;

beforeAll(async () => {
  server = await startImageServer();
  // Reachable by uid 65534: one test runs crew as nobody.
  dir = await scratchDir('crew-disk-', 0o755);
});

afterAll(async () => {
  await server.close();
  if (disk) execFileSync('umount', [disk]);
  await rm(dir, { recursive: true, force: true });
});

/** A CSV of `n` rows, each a distinct PNG of `kib` KiB. */
async function csv(name: string, n: number, kib: number): Promise<string> {
  const rows = Array.from({ length: n }, (_, i) => `p${i},${server.url}/sized/${kib}/${name}-${i}`);
  const path = join(dir, `${name}.csv`);
  await writeFile(path, `${rows.join('\n')}\n`);
  return path;
}

async function manifest(out: string): Promise<Line[]> {
  const text = await readFile(join(out, 'crew-manifest.jsonl'), 'utf8').catch(() => '');
  // Every line must parse: a manifest a re-run can read.
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

/** Every row recorded ok is on disk with exactly the recorded bytes; no temp file is left. */
async function expectNothingWrongOnDisk(out: string): Promise<Line[]> {
  const lines = await manifest(out);
  for (const line of lines.filter((l) => l.status === 'ok')) {
    const bytes = await readFile(join(out, line.file!));
    expect(bytes.length, line.file!).toBe(line.bytes);
    expect(createHash('sha256').update(bytes).digest('hex'), line.file!).toBe(line.sha256);
  }
  expect((await readdir(out)).filter((f) => f.startsWith('.crew-'))).toEqual([]);
  return lines;
}

describe('download-csv and the disk', () => {
  it('under a file-size limit (ulimit -f): stops, and no short file is recorded ok', async () => {
    const list = await csv('limit', 6, 20);
    const out = join(dir, 'limit-out');
    const [command, prefix] = crewCommand();
    // 15 KiB a file: every 20 KiB image would be cut short.
    const script = 'ulimit -f 15; exec "$@"';
    const run = await collect(
      spawn('bash', ['-c', script, 'bash', command, ...prefix, 'download-csv', list, '-o', out], {
        env: { ...process.env, ...env, NO_COLOR: '1' },
      }),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot write to .*limit-out: .*stopped: 0 downloaded/);
    expect(run.stderr).toMatch(/run the same command again to resume/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const lines = await expectNothingWrongOnDisk(out);
    expect(lines.filter((l) => l.status === 'ok')).toEqual([]);
    expect(lines.filter((l) => l.status === 'failed')).toEqual([]); // not the rows' fault
  });

  it('on a full disk: stops at once, keeps what finished, and a re-run with room resumes', async () => {
    disk = join(dir, 'small-disk');
    await mkdir(disk);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk]);
    const list = await csv('full', 12, 400);
    const out = join(disk, 'out');
    const run = await runCrew(['download-csv', list, '-o', out, '-w', '1', '-c', '2'], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no space left on device.*stopped: \d+ downloaded/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const first = await expectNothingWrongOnDisk(out);
    const kept = first.filter((l) => l.status === 'ok').length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(12);
    expect(first.filter((l) => l.status === 'failed')).toEqual([]);
    // Stopped at once: the rows after the disk filled were not each tried and retried.
    expect(server.hits.get(`/sized/400/full-11`) ?? 0).toBeLessThanOrEqual(1);

    // Full to the last page: not even the lock's pid can be written, and no empty lock is left.
    const filler = join(disk, 'filler');
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' });
    } catch {
      // dd ends with an error once the disk is full: what it is here for
    }
    const full = await runCrew(['download-csv', list, '-o', out], { env });
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/no space left on device/);
    await expectNothingWrongOnDisk(out);
    await rm(filler);

    execFileSync('mount', ['-o', 'remount,size=8m', disk]);
    const again = await runCrew(['download-csv', list, '-o', out, '--json'], { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      total: 12,
      ok: 12 - kept,
      skipped: kept,
      failed: 0,
    });
    await expectNothingWrongOnDisk(out);
    // One file a row: none saved again beside one the full disk left without its line.
    const images = (await readdir(out)).filter((name) => name.endsWith('.png'));
    expect(images.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `p${i}.png`).sort());
  });

  it('as a user who may not write --out: says so in one line, exit 1', async () => {
    const list = await csv('denied', 2, 1);
    const out = join(dir, 'root-only');
    await mkdir(out, { mode: 0o755 });
    // Where the single binary, as nobody, may keep its cache (sticky, like /tmp).
    const tmp = join(dir, 'tmp');
    await mkdir(tmp);
    await chmod(tmp, 0o1777);
    const [command, prefix] = crewCommand();
    const run = await collect(
      spawnAsNobody(command, [...prefix, 'download-csv', list, '-o', out], {
        env: { ...process.env, ...env, NO_COLOR: '1', HOME: '/nonexistent', TMPDIR: tmp },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    expect(run.stderr).toMatch(/^crew: cannot use .*root-only: permission denied\n$/);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
  });

  it('as a user who may not read the CSV: names it in one line, exit 1', async () => {
    const list = await csv('unreadable', 2, 1);
    await chmod(list, 0o600);
    const out = join(dir, 'for-all');
    await mkdir(out);
    await chmod(out, 0o777);
    const tmp = join(dir, 'tmp-csv');
    await mkdir(tmp);
    await chmod(tmp, 0o1777);
    const [command, prefix] = crewCommand();
    const run = await collect(
      spawnAsNobody(command, [...prefix, 'download-csv', list, '-o', out], {
        env: { ...process.env, ...env, NO_COLOR: '1', HOME: '/nonexistent', TMPDIR: tmp },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    expect(run.stderr).toBe(`crew: cannot read ${list}: permission denied\n`);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
  });

  it('refuses a manifest planted as a link, before downloading anything', async () => {
    const list = await csv('planted', 2, 1);
    const out = join(dir, 'shared');
    await mkdir(out);
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'keep me\n');
    await symlink(victim, join(out, 'crew-manifest.jsonl'));
    const run = await runCrew(['download-csv', list, '-o', out], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/crew-manifest\.jsonl is a symbolic link: refusing/);
    expect(await readFile(victim, 'utf8')).toBe('keep me\n');
    expect(server.hits.get('/sized/1/planted-0')).toBeUndefined();
  });

  it('refuses a second run on an --out in use, naming it; takes over after a kill -9', async () => {
    const out = join(dir, 'busy');
    const stuck = join(dir, 'stuck.csv');
    await writeFile(stuck, `s,${server.url}/slow\n`);
    const first = spawnCrew(['download-csv', stuck, '-o', out, '--timeout', '60'], { env });
    const firstDone = collect(first);
    for (let i = 0; i < 200 && !existsSync(join(out, '.crew-lock')); i++) await sleep(25);
    const list = await csv('busy', 3, 1);
    const second = await runCrew(['download-csv', list, '-o', out], { env });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(`another crew (process ${first.pid}) is downloading into it`);
    first.kill('SIGKILL');
    await firstDone;
    const third = await runCrew(['download-csv', list, '-o', out, '--json'], { env });
    expect(third.code).toBe(0);
    expect(JSON.parse(third.stdout)).toMatchObject({ total: 3, ok: 3 });
    expect(existsSync(join(out, '.crew-lock'))).toBe(false);
  });
});
