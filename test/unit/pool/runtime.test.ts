import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { sizeThreadPool, threadPoolSize } from '../../../src/pool/runtime.ts';

describe("threadPoolSize: libuv's threads for a machine", () => {
  it.each([
    [1, 5],
    [2, 6],
    [4, 8],
    [16, 20],
    [64, 68],
  ])('%i cores: %i threads', (cores, threads) => {
    expect(threadPoolSize(cores)).toBe(threads);
  });
});

describe('sizeThreadPool', () => {
  it('sets UV_THREADPOOL_SIZE for this machine when the environment has none', () => {
    const env: NodeJS.ProcessEnv = {};
    sizeThreadPool(env);
    expect(env['UV_THREADPOOL_SIZE']).toBe(String(threadPoolSize(availableParallelism())));
  });

  it('leaves a size the user set', () => {
    const env: NodeJS.ProcessEnv = { UV_THREADPOOL_SIZE: '2' };
    sizeThreadPool(env);
    expect(env['UV_THREADPOOL_SIZE']).toBe('2');
  });
});
