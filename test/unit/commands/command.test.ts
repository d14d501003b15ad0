import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  defineCommand,
  runCommand,
  type CommandSpec,
  type Io,
} from '../../../src/commands/command.ts';
import { toLogstatsConfig } from '../../../src/commands/logstats/options.ts';
import * as logstats from '../../../src/commands/logstats/run.ts';
import { Interrupted, ItemFailures, UsageError, withPartial } from '../../../src/errors.ts';
import expected from '../../../samples/logs/.expected.json' with { type: 'json' };
import { localPools } from '../../helpers/pools.ts';
import type { LogstatsResult } from '../../../src/logstats/summary.ts';

const samples = new URL('../../../samples/logs', import.meta.url).pathname;

/** An Io that keeps what a command printed. */
function capture(
  signal = new AbortController().signal,
): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out = (t: string | Iterable<string>): number =>
    stdout.push(typeof t === 'string' ? t : [...t].join(''));
  return { signal, out, err: (t) => stderr.push(t), stdout, stderr };
}

interface Echo {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly debug: boolean;
  readonly workers: number;
  readonly runtime: 'inline';
  readonly fail: boolean;
}
const echo: CommandSpec<{ fail?: boolean; json?: boolean }, Echo, string> = {
  usage: 'echo',
  describe: 'test',
  options: (y) => y,
  toConfig: (args) => ({
    json: args.json ?? false,
    quiet: true,
    debug: false,
    workers: 1,
    runtime: 'inline',
    fail: args.fail ?? false,
  }),
  progress: () => 'echoing',
  load: () =>
    Promise.resolve({
      run: (config, context) => {
        context.progress('half way');
        return Promise.resolve(config.fail ? 'bad' : 'good');
      },
      format: (result) => `result: ${result}`,
      json: (result) => ({ result }),
      check: (result) => {
        if (result === 'bad') throw new ItemFailures(1, 'it went bad');
      },
      notes: (result) => (result === 'bad' ? ['a note'] : []),
    }),
};

describe('runCommand: the one runner every command shares', () => {
  it.each([
    [false, ['result: good']],
    [true, [JSON.stringify({ result: 'good' }, null, 2)]],
  ])('prints the report as text or JSON (json: %s)', async (json, stdout) => {
    const io = capture();
    await runCommand(echo, echo.toConfig({ json }, []), io);
    expect(io.stdout).toEqual(stdout);
    expect(io.stderr).toEqual([]);
  });

  it('prints the report and its notes, then throws the check', async () => {
    const io = capture();
    await expect(runCommand(echo, echo.toConfig({ fail: true }, []), io)).rejects.toThrow(
      'it went bad',
    );
    expect(io.stdout).toEqual(['result: bad']);
    expect(io.stderr).toEqual(['crew: a note']);
  });

  /** A command whose run throws `error`, after telling `started` it runs. */
  const stopping = (
    error: unknown,
    stopped?: (partial: unknown) => Record<string, unknown>,
    started?: () => void,
  ): CommandSpec<{ json?: boolean }, Echo, string> => ({
    ...echo,
    load: () =>
      Promise.resolve({
        run: () => {
          started?.();
          return Promise.reject(error);
        },
        format: (result) => result,
        json: (result) => ({ result }),
        check: () => undefined,
        ...(stopped ? { stopped } : {}),
      }),
  });

  it.each([
    [
      'interrupted, with the counts it had',
      withPartial(new Interrupted('interrupted: 2 done'), { done: 2 }),
      { done: 2, stopped: { reason: 'interrupted', message: 'interrupted: 2 done' } },
    ],
    [
      'by an error whose cause carries the counts',
      new UsageError('no URL column', {
        cause: withPartial(new Error('no URL column'), { done: 0 }),
      }),
      { done: 0, stopped: { reason: 'usage', message: 'no URL column' } },
    ],
    [
      'by an error that carries nothing',
      Object.assign(new Error('gone'), { code: 'ENOSPC' }),
      { stopped: { reason: 'error', message: 'gone' } },
    ],
  ])('with --json, a run that stops prints one document: %s', async (_, error, doc) => {
    const io = capture();
    const spec = stopping(error, (partial) => ({ ...(partial as object) }));
    await expect(runCommand(spec, spec.toConfig({ json: true }, []), io)).rejects.toBe(error);
    expect(io.stdout.map((text) => JSON.parse(text) as unknown)).toEqual([doc]);
  });

  it('without --json, a run that stops prints nothing on stdout', async () => {
    const io = capture();
    const spec = stopping(new Interrupted('interrupted'));
    await expect(runCommand(spec, spec.toConfig({}, []), io)).rejects.toThrow('interrupted');
    expect(io.stdout).toEqual([]);
  });

  it('with --json, leaves a document to print if crew must exit at once, until it printed', async () => {
    let last: (() => void) | undefined;
    const controller = new AbortController();
    const io = {
      ...capture(controller.signal),
      beforeExit: (print: (() => void) | undefined) => (last = print),
    };
    let during: (() => void) | undefined;
    const spec = stopping(new Error('failed'), undefined, () => (during = last));
    await expect(runCommand(spec, spec.toConfig({ json: true }, []), io)).rejects.toThrow();
    expect(last).toBeUndefined();
    expect(io.stdout).toHaveLength(1);
    // As a second Ctrl-C would, while the run was on: the first one aborted it.
    controller.abort(new Interrupted('interrupted by SIGINT'));
    during!();
    expect(JSON.parse(io.stdout[1]!)).toEqual({
      stopped: { reason: 'interrupted', message: 'interrupted by SIGINT' },
    });
  });

  it('refuses words after -- that no option takes', async () => {
    const command = defineCommand(echo);
    await expect(command.handle({ _: ['echo', '-5'] }, [], capture())).rejects.toThrow(
      new UsageError('unexpected argument "-5"'),
    );
  });
});

describe('logstats, in process', () => {
  it('counts the bundled samples exactly, inline', async () => {
    const progress: string[] = [];
    const config = toLogstatsConfig({ paths: [samples], runtime: 'inline' });
    const result = await logstats.run(config, {
      signal: new AbortController().signal,
      progress: (text) => progress.push(text),
      pools: localPools,
    });
    expect(
      result.files.map(({ file, total, ip, malformed }) => ({ file, total, ip, malformed })),
    ).toEqual(expected.files);
    expect(result.all).toMatchObject(expected.all);
    expect(progress.at(-1)).toMatch(/^counting: 3 of 3 files/);
    expect(() => logstats.check(result)).not.toThrow();
  });

  it('names what could not be read, and says when nothing was found', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'crew-empty-'));
    onTestFinished(() => rm(empty, { recursive: true, force: true }));
    const io = capture();
    const config = toLogstatsConfig({ paths: [empty], runtime: 'inline', quiet: true });
    const spec: CommandSpec<unknown, typeof config, LogstatsResult> = {
      usage: 'logstats',
      describe: '',
      options: (y) => y,
      toConfig: () => config,
      progress: () => 'counting',
      load: () => Promise.resolve(logstats),
    };
    await runCommand(spec, config, io);
    expect(io.stderr).toEqual([`crew: no log files in ${empty}`]);
    const missing = await logstats.run(
      toLogstatsConfig({ paths: [join(empty, 'nope.log')], runtime: 'inline' }),
      { signal: new AbortController().signal, progress: () => undefined, pools: localPools },
    );
    expect(() => logstats.check(missing)).toThrow(
      /1 file could not be read: .*nope\.log \(no such file or directory\)/,
    );
  });
});
