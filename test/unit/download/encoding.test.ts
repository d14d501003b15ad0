import { describe, expect, it } from 'vitest';
import { detectEncoding, encodingName } from '../../../src/download/encoding.ts';

const hex = (h: string): Buffer => Buffer.from(h, 'hex');

describe('detectEncoding', () => {
  it.each([
    ['ASCII', Buffer.from('1,cat,http://x.test/a\n'), true, 'utf-8'],
    ['UTF-8', Buffer.from('1,猫,http://x.test/a\n'), true, 'utf-8'],
    [
      'UTF-8 cut inside a character, more to come',
      Buffer.from('1,猫').subarray(0, 4),
      false,
      'utf-8',
    ],
    ['UTF-8 BOM', hex('efbbbf312c'), true, 'utf-8'],
    ['UTF-16LE BOM', hex('fffe3100'), true, 'utf-16le'],
    ['UTF-16BE BOM', hex('feff0031'), true, 'utf-16be'],
    ['UTF-16LE, no BOM', Buffer.from('1,cat,http://x.test/a\n', 'utf16le'), true, 'utf-16le'],
    ['UTF-16BE, no BOM', Buffer.from('1,cat,http://x', 'utf16le').swap16(), true, 'utf-16be'],
    // 东北F4模仿秀 as Excel on a Chinese Windows saves it.
    ['GB18030', hex('312cb6abb1b14634c4a3b7c2d0e32c68'), true, 'gb18030'],
    [
      'latin-1 (neither): UTF-8, its bad rows fail',
      Buffer.from('caf\xe9, x', 'latin1'),
      true,
      'utf-8',
    ],
    ['a BOM cut short, more to come', hex('efbb'), false, undefined],
    ['a BOM cut short at the end', hex('efbb'), true, 'gb18030'],
    ['empty, more to come', hex(''), false, undefined],
    ['empty at the end', hex(''), true, 'utf-8'],
  ])('%s', (_, head, final, expected) => {
    expect(detectEncoding(head, final)).toBe(expected);
  });
});

describe('encodingName', () => {
  it.each([
    ['GBK', 'gbk'],
    ['gb18030', 'gb18030'],
    ['latin1', 'windows-1252'],
    ['Shift_JIS', 'shift_jis'],
    ['utf-16le', 'utf-16le'],
    ['klingon', undefined],
  ])('%s -> %s', (label, expected) => {
    expect(encodingName(label)).toBe(expected);
  });
});
