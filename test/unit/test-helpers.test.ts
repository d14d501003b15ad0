import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolatedCopy, removeCopy } from '../helpers/cli.ts';

// The suite's own helpers remove directories: one that removes the wrong one is worse than
// any bug it could catch.
describe('removeCopy', () => {
  it('removes a copy isolatedCopy made, with its directory', () => {
    const copy = isolatedCopy('package.json');
    expect(existsSync(copy)).toBe(true);
    removeCopy(copy);
    expect(existsSync(dirname(copy))).toBe(false);
  });

  // A test file's afterAll passed '' when the binary was not built: dirname('') is '.', and
  // the checkout the tests ran in was removed.
  it.each([[''], ['.'], ['crew']])('leaves %j alone', (path) => {
    const before = process.cwd();
    removeCopy(path);
    expect(existsSync(join(before, 'package.json'))).toBe(true);
  });

  it('leaves alone a binary it did not copy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crew-helper-'));
    try {
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin', 'crew'), 'x');
      removeCopy(join(dir, 'bin', 'crew'));
      expect(existsSync(join(dir, 'bin', 'crew'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes no copy of a binary that was not built', () => {
    expect(() => isolatedCopy('dist/no-such-binary')).toThrow(/ENOENT/);
  });
});
