import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { statEach, type StatPace } from '../../../src/logstats/stat-each.ts';
import { tempDirs } from '../../helpers/temp-dirs.ts';

const temp = tempDirs();

/** A folder of `count` files (file i holds i bytes), a folder, and a name that is not there. */
function listed(count: number): (string | undefined)[] {
  const root = temp.make('crew-stat-each-');
  const paths: (string | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    writeFileSync(join(root, `${i}.log`), 'x'.repeat(i));
    paths.push(join(root, `${i}.log`));
  }
  mkdirSync(join(root, 'dir'));
  paths.push(join(root, 'dir'), join(root, 'missing'), undefined);
  return paths;
}

/** What statEach reported, by index: size, 'dir', or the error's code. */
async function seen(
  paths: readonly (string | undefined)[],
  pace?: StatPace,
  signal?: AbortSignal,
  onEach?: (index: number) => void,
): Promise<Map<number, number | string>> {
  const got = new Map<number, number | string>();
  await statEach(
    paths,
    signal,
    (index, info) => {
      expect(got.has(index)).toBe(false);
      got.set(
        index,
        info instanceof Error
          ? String((info as NodeJS.ErrnoException).code)
          : info.isDirectory()
            ? 'dir'
            : info.size,
      );
      onEach?.(index);
    },
    pace,
  );
  return got;
}

describe('statEach', () => {
  const paces: [string, StatPace | undefined][] = [
    ['synchronous slices', undefined],
    ['one stat a slice', { sliceMs: 0, slowMs: Infinity, lanes: 4 }],
    // Every stat "slow": after the first slice the rest go through the thread pool.
    ['the thread pool', { sliceMs: 0, slowMs: -1, lanes: 3 }],
  ];
  it.each(paces)('reports every path once, with %s', async (_, pace) => {
    const paths = listed(50);
    const got = await seen(paths, pace);
    expect(got.size).toBe(52); // the undefined one is left out
    for (let i = 0; i < 50; i++) expect(got.get(i)).toBe(i);
    expect(got.get(50)).toBe('dir');
    expect(got.get(51)).toBe('ENOENT');
  });

  it.each(paces)('stops calling once the signal aborts, with %s', async (_, pace) => {
    const paths = listed(200);
    const stop = new AbortController();
    const got = await seen(paths, pace, stop.signal, (index) => {
      if (index === 9) stop.abort();
    });
    // Lanes already waiting on a stat may still report theirs.
    expect(got.size).toBeGreaterThanOrEqual(10);
    expect(got.size).toBeLessThanOrEqual(10 + (pace?.lanes ?? 0));
    expect(await seen(paths, pace, AbortSignal.abort())).toEqual(new Map());
  });
});
