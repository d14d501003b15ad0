import { constants } from 'node:fs';
import { copyFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outOfDescriptors, reasonWithoutPaths } from '../../../src/download/errors.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-errors-'));
  await writeFile(join(dir, 'a'), 'a');
  await writeFile(join(dir, 'b'), 'b');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const failure = async (operation: Promise<unknown>): Promise<unknown> =>
  operation.then(
    () => {
      throw new Error('it did not fail');
    },
    (error: unknown) => error,
  );

describe('reasonWithoutPaths', () => {
  it('leaves the path out of a failed open, the same words for every file', async () => {
    const error = await failure(open(join(dir, 'a'), 'wx'));
    expect(String((error as Error).message)).toContain(dir);
    expect(reasonWithoutPaths(error)).toBe('EEXIST: file already exists, open');
  });

  it('leaves both paths out of a failed copy', async () => {
    const error = await failure(copyFile(join(dir, 'a'), join(dir, 'b'), constants.COPYFILE_EXCL));
    expect(reasonWithoutPaths(error)).toBe('EEXIST: file already exists, copyfile');
  });

  it('keeps what is not a system error as it is', () => {
    expect(reasonWithoutPaths(new Error("cannot use 'x'"))).toBe("cannot use 'x'");
    expect(reasonWithoutPaths('plain')).toBe('plain');
  });
});

describe('outOfDescriptors', () => {
  it.each([
    [{ code: 'EMFILE' }, 'EMFILE'],
    [{ code: 'ENFILE' }, 'ENFILE'],
    [new Error('fetch failed', { cause: { code: 'EMFILE' } }), 'EMFILE'],
    [{ code: 'ENOSPC' }, undefined],
    [undefined, undefined],
  ])('%j -> %s', (error, code) => {
    expect(outOfDescriptors(error)).toBe(code);
  });
});
