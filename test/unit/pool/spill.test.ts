import { spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  makeSpillDir,
  removeLeftFolders,
  removeSpillDir,
  SPILL_BYTES,
  spill,
  unspill,
} from '../../../src/pool/spill.ts';
import { tempDirs } from '../../helpers/temp-dirs.ts';

const dirs = tempDirs();
const big = (n = SPILL_BYTES / 4): Uint32Array => Uint32Array.from({ length: n }, (_, i) => i * 3);

describe('spill and unspill', () => {
  it('leave each big array in a file and bring it back, removing the file', () => {
    const dir = dirs.make('crew-spill-');
    const answer = { total: 5, run: { count: 2, words: big(), counts: undefined }, list: [big()] };
    const sent = spill(answer, dir) as Record<string, unknown>;
    expect(sent).not.toBe(answer); // a copy on the way to each array: the task keeps its own
    expect(answer.run.words).toBeInstanceOf(Uint32Array);
    expect(JSON.stringify(sent).length).toBeLessThan(400); // markers, not words
    expect(readdirSync(dir)).toHaveLength(2);
    expect(unspill(sent, dir)).toEqual(answer);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('bring back arrays of every kind whose size is no multiple of the read window', () => {
    const dir = dirs.make('crew-spill-');
    // The parent reads a file 256 KiB at a time: these end part way into a window.
    const n = SPILL_BYTES / 4 + 12_345;
    const answer = {
      words: big(n),
      sums: Float64Array.from({ length: n / 2 }, (_, i) => i / 7 - 1e9),
      bytes: Uint8Array.from({ length: SPILL_BYTES * 3 + 1 }, (_, i) => (i * 31) & 0xff),
      small: Uint16Array.from({ length: SPILL_BYTES / 2 + 3 }, (_, i) => i & 0xffff),
    };
    const sent = spill(answer, dir);
    expect(readdirSync(dir)).toHaveLength(4);
    expect(unspill(sent, dir)).toEqual(answer);
  });

  it('pass small arrays, Buffers and answers with no big array on as they are', () => {
    const dir = dirs.make('crew-spill-');
    const small = { words: big(SPILL_BYTES / 4 - 1), text: 'a', n: 1n };
    expect(spill(small, dir)).toBe(small);
    const buffer = Buffer.alloc(SPILL_BYTES * 2);
    expect(spill({ buffer }, dir)).toEqual({ buffer });
    expect(readdirSync(dir)).toEqual([]);
    expect(spill({ words: big() }, undefined)).toEqual({ words: big() });
  });

  it('write an array the answer holds twice once, and bring it back as one array', () => {
    // A --by scan whose clients are all in one day answers with the day's run twice.
    const dir = dirs.make('crew-spill-');
    const run = { count: 3, words: big(), counts: undefined };
    const answer = {
      ipv6: run,
      groups: [
        { key: 'day', ipv6: run },
        { key: 'other', words: big() },
      ],
    };
    const sent = spill(answer, dir) as typeof answer;
    expect(readdirSync(dir)).toHaveLength(2);
    expect(sent.groups[0]?.ipv6?.words).toEqual(sent.ipv6.words); // the same marker
    const back = unspill(sent, dir) as typeof answer;
    expect(back).toEqual(answer);
    expect(back.groups[0]?.ipv6?.words).toBe(back.ipv6.words);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuse two markers of one file that say different things of it', () => {
    const dir = dirs.make('crew-spill-');
    const sent = spill({ words: big() }, dir) as { words: Record<string, unknown> };
    const forged = { ...sent.words, length: (sent.words['length'] as number) / 2 };
    expect(() => unspill({ a: sent.words, b: forged }, dir)).toThrow(/malformed marker/);
  });

  it('send the array through the channel when its file cannot be written', () => {
    const gone = join(dirs.make('crew-spill-'), 'missing');
    const answer = { words: big() };
    expect(spill(answer, gone)).toBe(answer);
  });

  it('refuse markers that name anything but a file of the pool, of the size they say', () => {
    const dir = dirs.make('crew-spill-');
    const outside = join(dirs.make('crew-spill-outside-'), 'secret');
    writeFileSync(outside, Buffer.alloc(16));
    const marker = (fields: Record<string, unknown>) => ({
      __crewSpilled: 'a'.repeat(32),
      kind: 'Uint32Array',
      length: 4,
      ...fields,
    });
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['a path', { __crewSpilled: '../crew-spill-outside/secret' }, /malformed marker/],
      ['a name of the wrong form', { __crewSpilled: 'A'.repeat(32) }, /malformed marker/],
      ['an unknown kind', { kind: 'BigInt64Array' }, /malformed marker/],
      ['an inherited kind', { kind: 'constructor' }, /malformed marker/],
      ['a negative length', { length: -1 }, /malformed marker/],
      ['a fractional length', { length: 1.5 }, /malformed marker/],
      ['a missing file', {}, /ENOENT/],
    ];
    for (const [what, fields, error] of cases) {
      expect(() => unspill({ run: marker(fields) }, dir), what).toThrow(error);
    }
    // A link planted in the folder is not followed; a file of another size is refused.
    symlinkSync(outside, join(dir, 'b'.repeat(32)));
    expect(() => unspill(marker({ __crewSpilled: 'b'.repeat(32) }), dir)).toThrow(/ELOOP/);
    writeFileSync(join(dir, 'c'.repeat(32)), Buffer.alloc(12));
    expect(() => unspill(marker({ __crewSpilled: 'c'.repeat(32) }), dir)).toThrow(
      /12 bytes, not 16/,
    );
  });
});

describe('removeLeftFolders', () => {
  it("removes this user's folders of crews that have ended, and nothing else", () => {
    const parent = dirs.make('crew-spill-parent-');
    const ended = spawnSync(process.execPath, ['-e', '0']).pid;
    const make = (name: string, file = true): string => {
      const path = join(parent, name);
      mkdirSync(path);
      if (file) writeFileSync(join(path, 'a'.repeat(32)), 'clients');
      return path;
    };
    const left = make(`crew-pool-${ended}-AbC123`);
    const kept = [
      make(`crew-pool-${process.pid}-AbC123`), // a crew still running
      make('crew-pool-1-AbC123'), // another user's process, or init: running
      make(`crew-pool-${ended}-abc`), // not a name crew makes
      make(`other-${ended}-AbC123`),
    ];
    const target = make('target');
    symlinkSync(target, join(parent, `crew-pool-${ended}-Link12`));
    kept.push(join(parent, `crew-pool-${ended}-Link12`), target);
    if (process.getuid?.() === 0) {
      const theirs = make(`crew-pool-${ended}-Their1`);
      chownSync(theirs, 65534, 65534);
      kept.push(theirs);
    }
    removeLeftFolders(parent);
    expect(existsSync(left)).toBe(false);
    expect(kept.filter((path) => !existsSync(path))).toEqual([]);
    expect(readdirSync(target)).toHaveLength(1);
  });
});

describe('makeSpillDir', () => {
  it('makes a private folder named for this crew, in /tmp when TMPDIR is relative', () => {
    const saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = 'relative';
    try {
      const dir = makeSpillDir()!;
      expect(dir).toMatch(new RegExp(`^/tmp/crew-pool-${process.pid}-[A-Za-z0-9]{6}$`));
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      removeSpillDir(dir);
      expect(existsSync(dir)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
    }
  });
});
