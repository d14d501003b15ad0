import { describe, expect, it } from 'vitest';
import { toQueueOptions } from '../../src/config.ts';
import { toQueueStatusConfig, type QueueArgs } from '../../src/commands/queue/options.ts';
import { toWorkerConfig } from '../../src/commands/worker/options.ts';
import pkg from '../../package.json' with { type: 'json' };

const url = 'postgres://crew:pw@db/crew';
// Jobs carry the sender's version: a worker runs only its own.
const { version } = pkg;

describe('toQueueOptions', () => {
  it.each([
    [{}, {}, undefined],
    [{}, { CREW_QUEUE: '' }, undefined],
    [{ queue: url }, {}, { url, taskTimeoutSeconds: 30, version }],
    [{}, { CREW_QUEUE: url }, { url, taskTimeoutSeconds: 30, version }],
    [{ queue: url, taskTimeout: '12' }, {}, { url, taskTimeoutSeconds: 12, version }],
  ])('%j with env %j', (args, env, options) => {
    expect(toQueueOptions(args, env)).toEqual(options);
  });

  it.each([
    [{ taskTimeout: '12' }, '--task-timeout needs --queue'],
    [{ queue: url, taskTimeout: '5' }, '--task-timeout must be a whole number from 10 to 86400'],
    [{ queue: 'redis://h' }, 'postgres:// URL'],
  ])('refuses %j', (args, message) => {
    expect(() => toQueueOptions(args, {})).toThrow(message);
  });
});

describe('crew worker and crew queue status', () => {
  it('take the URL as an argument or from CREW_QUEUE, never as a queue for their own pool', () => {
    expect(toWorkerConfig({ url }, {})).toMatchObject({ url, queue: undefined });
    expect(toWorkerConfig({}, { CREW_QUEUE: url })).toMatchObject({ url, queue: undefined });
    expect(toQueueStatusConfig({ action: 'status' }, { CREW_QUEUE: url })).toMatchObject({ url });
  });

  it('say what is missing', () => {
    expect(() => toWorkerConfig({}, {})).toThrow('name the queue');
    expect(() => toWorkerConfig({ url, queue: url }, {})).toThrow('not --queue');
    // yargs refuses other actions (their type rules them out); the config checks again.
    const drop = { action: 'drop', url } as unknown as QueueArgs;
    expect(() => toQueueStatusConfig(drop, {})).toThrow('one action, status');
  });
});
