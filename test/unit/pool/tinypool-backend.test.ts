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
    // A script given as text is the parent's, not its children's.
    [['-e', 'import("crew")'], ['--disable-sigusr1']],
    [
      ['--input-type=module', '-e', 'x', '--max-old-space-size=64'],
      ['--max-old-space-size=64', '--disable-sigusr1'],
    ],
    [
      ['--eval=x', '-r', 'a.js'],
      ['-r', 'a.js', '--disable-sigusr1'],
    ],
    [['-pe', 'x'], ['--disable-sigusr1']],
    [['--print', 'x', '--input-type', 'module'], ['--disable-sigusr1']],
  ])('%j -> %j', (parent, expected) => {
    expect(childExecArgv(parent)).toEqual(expected);
  });
});
