import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, collect, runCrew, spawnCrew, spawnCrewOnTerminal } from '../helpers/cli.ts';
import { startImageServer, type ImageServer } from '../helpers/image-server.ts';

let server: ImageServer;
let dir: string;
beforeAll(async () => {
  server = await startImageServer();
  dir = await mkdtemp(join(tmpdir(), 'crew-kill-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('download-csv killed with -9 mid-run', () => {
  it('has every row its progress line called done in the manifest, and a re-run skips them', async () => {
    const rows = 20_000;
    const csv = join(dir, 'list.csv');
    const out = join(dir, 'out');
    await writeFile(
      csv,
      Array.from({ length: rows }, (_, i) => `${i},img${i},${server.url}/img/${i}`).join('\n'),
    );
    // Progress shows only on a terminal, and not under CI=true (ora turns itself off): run
    // crew on one, as a person would, and read what it says it has done.
    const script = spawnCrewOnTerminal(['download-csv', csv, '-o', out], 120, {
      env: { CI: undefined },
    });
    const done = collect(script, { timeoutMs: 60_000 });
    let reported = 0;
    let killed = false;
    script.stdout!.on('data', (chunk: Buffer) => {
      // The progress line ("1234 of 20000 rows (5000/s), ..."), not the final summary.
      for (const match of chunk.toString().matchAll(/(\d+) of \d+\+? rows \(/g)) {
        reported = Math.max(reported, Number(match[1]));
      }
      if (!killed && reported >= 1000) {
        killed = true;
        for (const crew of childrenOf(script.pid!)) process.kill(crew, 'SIGKILL');
      }
    });
    await done;
    expect(killed).toBe(true);
    expect(reported).toBeLessThan(rows); // killed before the end

    const lines = (await readFile(join(out, 'crew-manifest.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean);
    const ok = lines.filter((line) => {
      try {
        return (JSON.parse(line) as { status: string }).status === 'ok';
      } catch {
        return false; // a line torn by the kill is not a row done
      }
    });
    expect(ok.length).toBeGreaterThanOrEqual(reported);

    // The killed run's temp folder, with whatever bodies were arriving.
    const leftBehind = (await readdir(out)).filter((name) =>
      /^\.crew-[0-9a-f]+$/.test(name),
    ).length;
    expect(leftBehind).toBe(1);
    const again = await runCrew(['download-csv', csv, '-o', out, '--json'], { timeoutMs: 60_000 });
    expect(again.code).toBe(0);
    const result = JSON.parse(again.stdout) as {
      ok: number;
      skipped: number;
      failed: number;
      cleaned: number;
    };
    // The killed run's lock is taken over, so its directory is searched for what it left.
    expect(result.cleaned).toBe(leftBehind);
    expect(result.skipped).toBeGreaterThanOrEqual(reported);
    expect(result.ok + result.skipped).toBe(rows);
    expect(result.failed).toBe(0);
    // The temp folder the killed run left is gone; every row has its file.
    const names = await readdir(out);
    expect(names.filter((name) => name.startsWith('.crew'))).toEqual([]);
    expect(names.filter((name) => /^img\d+\.png$/.test(name))).toHaveLength(rows);
  });
});

describe('download-csv killed with -9 at any moment', () => {
  // A file is named before its row's line is written (a few ms later, in a batch). A kill
  // between the two used to leave files no line recorded, and the re-run saved those rows
  // again as img12-2.png beside them (4 of 5 kills by hand at random moments).
  it('leaves nothing a re-run saves again under another name', async () => {
    const rows = 10_000;
    const csv = join(dir, 'any-moment.csv');
    await writeFile(
      csv,
      Array.from({ length: rows }, (_, i) => `${i},img${i},${server.url}/img/${i}`).join('\n'),
    );
    for (const ms of [100, 300, 700]) {
      const out = join(dir, `any-moment-${ms}`);
      const child = spawnCrew(['download-csv', csv, '-o', out]);
      const done = collect(child, { timeoutMs: 60_000 });
      const named = async (): Promise<number> =>
        (await readdir(out).catch(() => [])).filter((name) => name.startsWith('img')).length;
      while ((await named()) === 0 && child.exitCode === null) await sleep(5);
      await sleep(ms);
      child.kill('SIGKILL');
      await done;
      const killedAt = await named();
      expect(killedAt, `killed ${ms} ms after the first file`).toBeLessThan(rows);

      const again = await runCrew(['download-csv', csv, '-o', out, '--json'], {
        timeoutMs: 60_000,
      });
      expect(again.code).toBe(0);
      const result = JSON.parse(again.stdout) as { ok: number; skipped: number; failed: number };
      expect(result.ok + result.skipped).toBe(rows);
      const names = await readdir(out);
      expect(names.filter((name) => /-\d+\.png$/.test(name))).toEqual([]);
      expect(names.filter((name) => /^img\d+\.png$/.test(name))).toHaveLength(rows);
    }
  }, 180_000);
});
