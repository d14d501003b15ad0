import { describe, expect, it } from 'vitest';
import { jsonText } from '../../../src/ui/json-text.ts';

const joined = (value: unknown): string => [...jsonText(value)].join('');

describe('jsonText', () => {
  // The pieces must add up to JSON.stringify's own text for any report a command returns.
  it.each([
    ['an empty object', {}],
    ['an empty list', []],
    ['a number', 3],
    ['null', null],
    ['a string with a newline, a quote and a lone surrogate', 'a\n"b"\udcff'],
    ['nested empties', { a: [], b: {}, c: [[], {}] }],
    ['rows', { files: [{ file: 'a', ip: 1, top: [{ ip: '::1', requests: 2 }] }], all: { ip: 1 } }],
    ['fields without JSON', { a: undefined, b: () => 1, c: Symbol('x'), d: 1 }],
    ['list items without JSON', [undefined, () => 1, Symbol('x'), 1]],
    ['numbers JSON cannot hold', [NaN, -0, Infinity, 1e21, 0.1]],
    ['a date and a Map', { at: new Date(0), map: new Map([[1, 2]]) }],
    ['an object with toJSON', { a: { toJSON: () => ({ b: [1, 2] }) } }],
    [
      'a class instance',
      {
        a: new (class {
          x = [1, { y: 2 }];
        })(),
      },
    ],
    ['deep lists', [[[[[1, [2]]]]]]],
    ['a null-prototype object', Object.assign(Object.create(null) as object, { a: [1] })],
    ['keys that need escapes', { 'a"b': 1, 'c\nd': [2], '': 3 }],
    ['keys JSON orders as integers first', { b: 1, 2: 2, a: 3, 1: 4 }],
  ])('%s', (_, value) => {
    expect(joined(value)).toBe(JSON.stringify(value, null, 2));
  });

  it('gives a long list in pieces of about a MiB, each ending between tokens', () => {
    const files = Array.from({ length: 100_000 }, (_, i) => ({ file: `${i}.log`, ip: i }));
    const pieces = [...jsonText({ files, all: { ip: 1 } })];
    expect(pieces.length).toBeGreaterThan(4);
    for (const piece of pieces.slice(0, -1)) expect(piece.length).toBeLessThan(2 ** 20 + 200);
    expect(pieces.join('')).toBe(JSON.stringify({ files, all: { ip: 1 } }, null, 2));
    // Each piece but the last ends after a whole row: a slice never splits a token.
    for (const piece of pieces.slice(0, -1)) expect(piece).toMatch(/[}\]]$/);
  });
});
