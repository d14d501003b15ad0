import { describe, expect, it } from 'vitest';
import { recoverBytes } from '../../src/raw-args.ts';

const bytes = (...values: number[]): Buffer => Buffer.from(values);
const ascii = (text: string): Buffer => Buffer.from(text);

describe('recoverBytes', () => {
  it.each([
    [
      'leaves UTF-8 arguments alone',
      ['a.log', 'é.log'],
      [ascii('a.log'), ascii('é.log')],
      ['a.log', 'é.log'],
    ],
    [
      'gives back the bytes of a name that is not UTF-8',
      ['logs', 'n\uFFFD.log'],
      [ascii('crew'), ascii('logs'), bytes(0x6e, 0xff, 0x2e, 0x6c, 0x6f, 0x67)],
      ['logs', bytes(0x6e, 0xff, 0x2e, 0x6c, 0x6f, 0x67)],
    ],
    [
      'takes look-alikes in command-line order',
      ['\uFFFD', '\uFFFD'],
      [bytes(0xfe), bytes(0xff)],
      [bytes(0xfe), bytes(0xff)],
    ],
    [
      'keeps a name typed with U+FFFD itself (valid UTF-8) as text',
      ['\uFFFD.log'],
      [ascii('\uFFFD.log')],
      ['\uFFFD.log'],
    ],
    ['keeps what no raw argument decodes to', ['x\uFFFD'], [bytes(0x79, 0xff)], ['x\uFFFD']],
  ])('%s', (_, args, raw, expected) => {
    expect(recoverBytes(args, raw)).toEqual(expected);
  });
});
