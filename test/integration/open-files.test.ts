/**
 * crew under a low open-files limit (`ulimit -n`). A worker thread's event loop and a child's
 * pipes take descriptors of crew's own; past the limit Node could not start a worker, and
 * tinypool crashed crew with `TypeError: emitter.removeListener is not a function` (threads)
 * or an unhandled spawn EMFILE (processes). Now crew starts the workers that fit, and says
 * so, or stops with one line that names the limit.
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, repoRoot, runCrew, spawnCrewUnder } from '../helpers/cli.ts';
import { startImageServer, type ImageServer } from '../helpers/image-server.ts';

/** Runs crew under `ulimit -n <limit>` (soft and hard), as a shell would. */
function crewUnderLimit(limit: number, args: readonly string[]) {
  const child = spawnCrewUnder(['bash', '-c', `ulimit -n ${limit} && exec "$@"`, 'bash'], args);
  return collect(child, { timeoutMs: 60_000 });
}

let logs: string;
let server: ImageServer;
beforeAll(async () => {
  server = await startImageServer();
  // More files than the limit: a run that kept each one open would run out.
  logs = await mkdtemp(join(tmpdir(), 'crew-open-files-'));
  const sample = join(repoRoot, 'samples', 'logs', '20210322.log');
  await Promise.all(
    Array.from({ length: 60 }, (_, i) => copyFile(sample, join(logs, `access-${i}.log`))),
  );
});
afterAll(async () => {
  await server.close();
  await rm(logs, { recursive: true, force: true });
});

describe.each(['thread', 'process'] as const)('under a low ulimit -n, on %s', (runtime) => {
  it('runs the workers that fit and says so, instead of crashing', async () => {
    const run = await crewUnderLimit(40, ['sum', '1e6', '--runtime', runtime, '-w', '16']);
    expect(run.stderr).not.toMatch(/TypeError|EMFILE|\n\s+at /);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/crew: ulimit -n 40 leaves room for \d+ of the 16 workers asked/);
    expect(run.stdout).toMatch(/result\s+499999500000\n/);
    const workers = Number(/workers\s+(\d+) ×/.exec(run.stdout)?.[1]);
    expect(workers).toBeGreaterThanOrEqual(1);
    expect(workers).toBeLessThan(16);
  });

  it('stops with one line naming the limit when not one worker fits', async () => {
    const run = await crewUnderLimit(27, ['sum', '1e6', '--runtime', runtime]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `crew: too many open files for even one worker ${runtime} (ulimit -n 27): ` +
        'raise it (ulimit -n 1024), or run tasks here with --runtime inline\n',
    );
  });

  it('counts a directory of more logs than the limit allows open', async () => {
    // Room for one worker, not two: with two (one per core here) crew used to crash.
    const limit = { thread: 34, process: 35 }[runtime];
    const args = ['logstats', logs, '--runtime', runtime, '-w', '2', '--json', '-q'];
    const [limited, free] = await Promise.all([crewUnderLimit(limit, args), runCrew(args)]);
    expect(limited.stderr).not.toMatch(/TypeError|EMFILE|too many open files|\n\s+at /);
    expect(limited.code).toBe(0);
    const counts = (stdout: string) => {
      const report = JSON.parse(stdout) as { all: { files: number; total: number; ip: number } };
      return report.all;
    };
    expect(counts(limited.stdout)).toEqual(counts(free.stdout));
    expect(counts(limited.stdout)).toMatchObject({ files: 60, total: 60 * 500 });
  });
});

it('download-csv stops with the same line when not one worker fits', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'crew-open-files-dl-'));
  try {
    const csv = join(dir, 'list.csv');
    // A port nothing listens on: crew stops before it fetches anything.
    await writeFile(csv, 'http://127.0.0.1:9/a.png\n');
    const run = await crewUnderLimit(27, ['download-csv', csv, '-o', join(dir, 'out')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^crew: too many open files for even one worker thread \(ulimit -n 27\)/m,
    );
    expect(run.stderr).not.toMatch(/TypeError|\n\s+at /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it.each(['thread', 'process'] as const)(
  'download-csv on %s: the lanes share the workers that fit, and every row is downloaded',
  async (runtime) => {
    const dir = await mkdtemp(join(tmpdir(), 'crew-open-files-dl-'));
    try {
      const csv = join(dir, 'list.csv');
      const rows = Array.from({ length: 30 }, (_, i) => `r${i},${server.url}/img/${i}.png`);
      await writeFile(csv, `${rows.join('\n')}\n`);
      const args = ['download-csv', csv, '-o', join(dir, 'out'), '-w', '4', '--runtime', runtime];
      // Room for one worker or two, not four: lanes used to start together and all fail.
      const run = await crewUnderLimit(40, [...args, '--json']);
      expect(run.stderr).not.toMatch(/TypeError|EMFILE|\n\s+at /);
      expect(run.stderr).toMatch(/crew: ulimit -n 40 left room for [123] of the 4 workers asked/);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ total: 30, ok: 30, failed: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
