import { describe, expect, it } from 'vitest';
import { childExecArgv } from '../../../src/pool/tinypool-backend.ts';

describe('childExecArgv', () => {
  it.each([
    [[], ['--disable-sigusr1']],
    [['--max-old-space-size=1024'], ['--max-old-space-size=1024', '--disable-sigusr1']],
    [
      ['--disable-sigusr1', '--inspect=0'],
      ['--disable-sigusr1', '--inspect=0'],
    ],
  ])('%j -> %j', (parent, expected) => {
    expect(childExecArgv(parent)).toEqual(expected);
  });
});
