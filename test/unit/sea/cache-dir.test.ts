import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameBytes } from '../../../src/sea/cache-dir.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-cache-dir-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sameBytes', () => {
  // Bigger than the one buffer it reads through, so a difference can sit past its first fill.
  const bytes = randomBytes(600 * 1024);
  const file = (name: string, content: Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('is true only for the same bytes, wherever a difference lies', () => {
    expect(sameBytes(file('same', bytes), bytes)).toBe(true);
    const late = Buffer.from(bytes);
    late[late.length - 3] = late[late.length - 3]! ^ 1;
    expect(sameBytes(file('late', late), bytes)).toBe(false);
    expect(sameBytes(file('short', bytes.subarray(0, bytes.length - 1)), bytes)).toBe(false);
    expect(sameBytes(file('long', Buffer.concat([bytes, Buffer.from([0])])), bytes)).toBe(false);
    expect(sameBytes(file('empty', Buffer.alloc(0)), Buffer.alloc(0))).toBe(true);
  });

  it('does not follow a link', () => {
    const target = file('target', bytes);
    symlinkSync(target, join(dir, 'link'));
    expect(() => sameBytes(join(dir, 'link'), bytes)).toThrow(/ELOOP|symbolic link/);
  });

  // In a process of its own, so that a hang is a failure after 20 s and not a test run that
  // never ends (a blocked open holds vitest's worker too).
  it('reads a FIFO with no writer as not the file, at once', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const module = new URL('../../../src/sea/cache-dir.ts', import.meta.url).href;
    const script = `const { sameBytes } = await import(${JSON.stringify(module)});
    console.log(sameBytes(${JSON.stringify(fifo)}, Buffer.from('x')));`;
    const run = promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 20_000,
    });
    expect((await run).stdout.trim()).toBe('false');
  });
});
