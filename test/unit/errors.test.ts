import { describe, expect, it } from 'vitest';
import { reasonOf } from '../../src/errors.ts';

/** An error as Node makes them: a message and a code. */
const withCode = (code: string, message: string): Error =>
  Object.assign(new Error(message), { code });

describe('reasonOf', () => {
  it.each([
    [
      withCode('EMFILE', "EMFILE: too many open files, open 'a.log'"),
      'too many open files: raise ulimit -n, or use fewer workers',
    ],
    [
      withCode('ENFILE', 'ENFILE: file table overflow'),
      'too many open files: raise ulimit -n, or use fewer workers',
    ],
    [
      withCode('ERR_WORKER_INIT_FAILED', 'Worker initialization failure: EMFILE'),
      'too many open files: raise ulimit -n, or use fewer workers',
    ],
    [
      withCode('ERR_WORKER_INIT_FAILED', 'Worker initialization failure: ENOMEM'),
      'Worker initialization failure: ENOMEM',
    ],
    [
      withCode('ENOENT', "ENOENT: no such file or directory, open 'x'"),
      'no such file or directory',
    ],
    [new Error('plain'), 'plain'],
    ['a string', 'a string'],
  ])('%s -> %s', (error, reason) => {
    expect(reasonOf(error)).toBe(reason);
  });
});
