import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { BodyFile, HELD_BYTES } from '../../../src/download/body-file.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-body-'));
  return () => rm(dir, { recursive: true, force: true });
});

const chunks = (sizes: readonly number[]): Buffer[] =>
  sizes.map((size, i) => Buffer.alloc(size, i + 1));

describe('BodyFile', () => {
  it.each([
    ['no bytes', []],
    ['one small chunk', [100]],
    ['small chunks', [16_384, 16_384, 7]],
    ['exactly the held limit', [HELD_BYTES]],
    ['more than the held limit', [HELD_BYTES - 1, 65_536, 65_536]],
    ['several megabytes', [HELD_BYTES, HELD_BYTES, HELD_BYTES, 3]],
  ])('writes %s whole, in order', async (_, sizes) => {
    const path = join(dir, 'body.part');
    const body = new BodyFile(path);
    for (const chunk of chunks(sizes)) await body.add(chunk);
    await body.end();
    // Buffer#equals: toEqual compares megabytes byte by byte, slowly.
    expect((await readFile(path)).equals(Buffer.concat(chunks(sizes)))).toBe(true);
  });

  it.each([
    ['no bytes', []],
    ['one chunk', [100]],
    ['chunks just under the held limit', [HELD_BYTES - 10, 9]],
  ])('hands %s over whole from memory, and never creates the file', async (_, sizes) => {
    const path = join(dir, 'body.part');
    const body = new BodyFile(path);
    for (const chunk of chunks(sizes)) await body.add(chunk);
    const held = body.takeHeld();
    expect(held?.equals(Buffer.concat(chunks(sizes)))).toBe(true);
    expect(body.touched).toBe(false);
    await body.close();
    await expect(readFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('holds nothing to hand over once part of the body went to disk', async () => {
    const path = join(dir, 'body.part');
    const body = new BodyFile(path);
    const sizes = [HELD_BYTES, 10];
    for (const chunk of chunks(sizes)) await body.add(chunk);
    expect(body.takeHeld()).toBeUndefined();
    await body.end();
    expect((await readFile(path)).equals(Buffer.concat(chunks(sizes)))).toBe(true);
  });

  it.each([
    ['a small body', [10]],
    ['a big body', [HELD_BYTES + 1]],
  ])('refuses a path that exists, and does not follow a symlink there (%s)', async (_, sizes) => {
    const target = join(dir, 'target');
    await writeFile(target, 'keep');
    const path = join(dir, 'body.part');
    await symlink(target, path);
    const body = new BodyFile(path);
    const write = async (): Promise<void> => {
      for (const chunk of chunks(sizes)) await body.add(chunk);
      await body.end();
    };
    await expect(write()).rejects.toMatchObject({ code: 'EEXIST' });
    await body.close();
    expect(await readFile(target, 'utf8')).toBe('keep');
  });
});
