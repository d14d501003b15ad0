import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { childrenOf, collect, runCrew, spawnCrew, untilCatches } from '../helpers/cli.ts';

describe('crew sum', () => {
  it.each([
    [['1e9'], '499999999500000000'],
    [['--start', '9007199254740000', '--end', '9007199254741000'], '9007199254740499500'],
    [['--start', '-1000000', '--end', '1000001'], '0'],
    [['100_000_000'], '4999999950000000'],
    [['--start', '-9223372036854775808', '--end', '-9223372036854775800'], '-73786976294838206436'],
  ])('sum %j is exact under every runtime', async (args, expected) => {
    for (const runtime of ['thread', 'process', 'inline']) {
      const run = await runCrew(['sum', ...args, '--runtime', runtime]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^result\\s+${expected}$`, 'm'));
      expect(run.stdout).toMatch(/^check\s+ok \(closed form/m);
    }
  });

  it('prints exactly one JSON document with --json', async () => {
    const run = await runCrew(['sum', '1e8', '--json', '--workers', '2', '--runtime', 'process']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      result: '4999999950000000',
      expected: '4999999950000000',
      ok: true,
      start: '0',
      end: '100000000',
      workers: 2,
      runtime: 'process',
    });
    expect(typeof doc['ms']).toBe('number');
  });

  it('defaults to the tutorial sum of [0, 1e8)', async () => {
    const run = await runCrew(['sum', '--json', '--workers', '1']);
    expect(JSON.parse(run.stdout)).toMatchObject({ result: '4999999950000000', workers: 1 });
  });

  it('benchmarks serial, threads and processes side by side with --bench', async () => {
    const run = await runCrew([
      'sum',
      '--bench',
      '1e6',
      '--repeat',
      '1',
      '--workers',
      '2',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as {
      rows: { runtime: string; workers: number; ok: boolean }[];
    };
    expect(doc.rows.map((r) => `${r.runtime}×${r.workers}`)).toEqual([
      'inline×1',
      'thread×1',
      'thread×2',
      'process×1',
      'process×2',
    ]);
    expect(doc.rows.every((r) => r.ok)).toBe(true);
  });

  it('shows help with examples', async () => {
    const run = await runCrew(['sum', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Examples:');
    expect(run.stdout).toContain('--runtime');
  });

  it.each([
    [['sum', '--bogus'], /Unknown argument: bogus/],
    [['sum', '1.5'], /N must be an integer such as 100000000, 1e8 or 100_000_000; got "1.5"/],
    [['sum', 'abc'], /N must be an integer/],
    [['sum', '--start', '10', '--end', '5'], /--end \(5\) is less than --start \(10\)/],
    [['sum', '--end', '9223372036854775808'], /must fit a signed 64-bit integer/],
    [['sum', '--start', '0', '--end', '1e17'], /at most 2\^53/],
    [
      ['sum', '--workers', '0'],
      /--workers must be a whole number from 1 to \d+ \(8 per core here\); got "0"/,
    ],
    [['sum', '--workers', '1e2'], /--workers must be a whole number/],
    [['sum', '--workers', '0x10'], /--workers must be a whole number/],
    [['sum', '--workers', '100000'], /--workers must be a whole number from 1 to \d+/],
    [['sum', '--', '-5'], /unexpected argument "-5"/],
    [['sum', '--runtime', 'fork'], /Choices: "thread", "process", "inline"/],
    [['sum', '5', '--start', '1'], /either N or --start\/--end/],
    [['smu'], /unknown command "smu". Did you mean sum\?/],
    [[], /Name a command/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const run = await runCrew(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^crew: /);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack without --debug
  });

  it('prints the version', async () => {
    const run = await runCrew(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('prints a completion script', async () => {
    const run = await runCrew(['completion']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('crew');
    expect(run.stdout).toContain('complete');
  });

  it.each(['thread', 'process', 'inline'])(
    'exits 130 on SIGINT during a long %s sum and leaves no process behind',
    async (runtime) => {
      const child = spawnCrew(['sum', '1e15', '--runtime', runtime, '--workers', '2']);
      const done = collect(child);
      const pid = child.pid!;
      let workers: number[] = [];
      try {
        // Child processes are visible with ps; threads and inline work live inside crew.
        for (let i = 0; i < 100 && runtime === 'process' && workers.length < 2; i++) {
          await sleep(100);
          workers = childrenOf(pid);
        }
        await untilCatches(pid, 'SIGINT');
      } catch (error) {
        // A sum of 1e15 left running would hold both cores for hours after the test.
        for (const worker of [...workers, pid]) {
          if (isAlive(worker)) process.kill(worker, 'SIGKILL');
        }
        throw error;
      }
      await sleep(300);
      child.kill('SIGINT');
      const run = await done;
      expect(run.code).toBe(130);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^crew: interrupted: 0 of \d chunks had finished/);
      if (runtime === 'process') expect(workers).toHaveLength(2);
      for (const worker of workers) expect(isAlive(worker)).toBe(false);
    },
  );
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
