import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { FetchOutcome } from '../../../src/download/fetch.ts';
import { DoneRows } from '../../../src/download/done-rows.ts';
import type { Done } from '../../../src/download/manifest.ts';
import { flatLayout, type OutputLayout } from '../../../src/download/layout.ts';
import { fetchKey, Planner } from '../../../src/download/plan.ts';
import { Mismatches } from '../../helpers/mismatches.ts';
import { seededRandom } from '../../helpers/seeded.ts';
import type { Published } from '../../../src/download/publish.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-plan-'));
  return () => rm(dir, { recursive: true, force: true });
});

const job = (row: number, name: string, url = `http://x.test/${row}`) => ({
  row,
  name,
  id: '',
  url,
});
const planner = (
  options: { ext?: string; done?: Done; force?: boolean; layout?: OutputLayout } = {},
  maxUrls?: number,
) =>
  new Planner(
    {
      out: dir,
      ext: options.ext,
      done: options.done ?? new DoneRows(),
      layout: options.layout ?? flatLayout,
      force: options.force ?? false,
    },
    maxUrls,
  );

const ok: FetchOutcome = {
  ok: true,
  status: 200,
  bytes: 3,
  sha256: 'abc',
  contentType: 'image/png',
  ext: 'png',
  attempts: 1,
  finalUrl: 'http://x.test/final',
  temp: '/out/.crew-0123abcd/0123456789abcdef.part',
};

describe('Planner', () => {
  it('claims stems in row order: the same name again gets -2, -3, whatever the case', () => {
    const plan = planner();
    const stems = ['cat', 'Cat', 'dog', 'cat', ''].map((name, i) => plan.stem(job(i + 1, name)));
    expect(stems).toEqual(['cat', 'Cat-2', 'dog', 'cat-3', '5']);
  });

  it('skips a row only when its recorded file is still there, whole, and not with --force', async () => {
    const done: Done = new DoneRows();
    done.set(1, 'http://x.test/1', 'whole.png', 3);
    done.set(2, 'http://x.test/2', 'cut.png', 3);
    done.set(3, 'http://x.test/3', 'gone.png', 3);
    done.set(4, 'http://x.test/4', 'link.png', 3);
    // Its name was taken on disk when it ran: it moved on to -2, and a re-run agrees.
    done.set(5, 'http://x.test/5', 'taken-2.png', 3);
    const stems = ['', 'whole', 'cut', 'gone', 'link', 'taken'];
    await writeFile(join(dir, 'whole.png'), 'abc');
    await writeFile(join(dir, 'cut.png'), 'ab');
    await writeFile(join(dir, 'taken-2.png'), 'abc');
    await symlink(join(dir, 'whole.png'), join(dir, 'link.png'));
    for (const [force, expected] of [
      [false, [true, false, false, false, true]],
      [true, [false, false, false, false, false]],
    ] as const) {
      const plan = planner({ done, force });
      const skipped = [];
      for (const row of [1, 2, 3, 4, 5]) {
        skipped.push(plan.skips(plan.finishedBefore(job(row, 'x'), stems[row]!)));
      }
      expect(skipped).toEqual(expected);
    }
    const plan = planner({ done });
    expect(plan.finishedBefore(job(5, 'x'), 'taken')).toEqual({ file: 'taken-2.png', bytes: 3 });
    // Another URL on the same row is another job: nothing recorded.
    expect(plan.finishedBefore(job(1, 'x', 'http://x.test/other'), 'whole')).toBeUndefined();
  });

  it('fetches each URL once; later rows share the first one', async () => {
    const plan = planner();
    let fetches = 0;
    const fetch = (): Promise<Published> => {
      fetches++;
      return Promise.resolve({ outcome: ok, file: 'cat.png' });
    };
    const first = plan.fetchOnce('http://x.test/a', fetch);
    const second = plan.fetchOnce('http://x.test/a', fetch);
    const other = plan.fetchOnce('http://x.test/b', fetch);
    expect([first.first, second.first, other.first]).toEqual([true, false, true]);
    expect(fetches).toBe(2);
    expect(await second.published).toEqual(await first.published);
    // Once settled, later rows get what they need without the redirect target.
    const later = await plan.fetchOnce('http://x.test/a', fetch).published;
    expect(later).toMatchObject({
      file: 'cat.png',
      outcome: { ok: true, sha256: 'abc' },
    });
    expect(later.outcome).toMatchObject({ finalUrl: '' });
    expect(fetches).toBe(2);
  });

  it('fetches URLs that differ only in how they are written once', () => {
    const plan = planner();
    let fetches = 0;
    const fetch = (): Promise<Published> => {
      fetches++;
      return new Promise(() => undefined);
    };
    const firsts = ['http://x.test/a', 'HTTP://X.TEST/a', 'http://x.test:80/b/../a#top'].map(
      (url) => plan.fetchOnce(url, fetch).first,
    );
    expect(firsts).toEqual([true, false, false]);
    expect(fetches).toBe(1);
  });

  it("gives a later row its URL's own failure, however many distinct failures there were", async () => {
    const plan = planner();
    const failure = (i: number): Published => ({
      outcome: {
        ok: false,
        status: i % 2 ? 404 : undefined,
        error: `e${i % 1500}`,
        attempts: 1 + (i % 3),
      },
    });
    // Past the table of distinct failures (1000), the rest are kept whole: still exact.
    const urls = Array.from({ length: 3000 }, (_, i) => `http://x.test/${i}`);
    await Promise.all(
      urls.map((url, i) => plan.fetchOnce(url, () => Promise.resolve(failure(i))).published),
    );
    const never = (): Promise<Published> => Promise.reject(new Error('fetched again'));
    for (const i of [0, 1, 2, 999, 1000, 1499, 1500, 2999]) {
      const again = plan.fetchOnce(urls[i]!, never);
      expect(again.first).toBe(false);
      expect(await again.published).toEqual(failure(i));
    }
  });

  it('remembers only the most recent URLs: an old repeat is fetched again', () => {
    const plan = planner({}, 2);
    let fetches = 0;
    const fetch = (): Promise<Published> => {
      fetches++;
      return new Promise(() => undefined);
    };
    for (const url of ['a', 'b', 'c', 'c', 'b', 'a']) plan.fetchOnce(`http://x.test/${url}`, fetch);
    expect(fetches).toBe(4);
  });

  it('forgets URLs oldest first, as many times round as there are rows', () => {
    // The same verdicts as a list of the last `max` URLs remembered, for random repeats.
    for (const max of [0, 1, 3, 10]) {
      const plan = planner({}, max);
      const random = seededRandom(max);
      const recent: string[] = [];
      const wrong = new Mismatches();
      for (let i = 0; i < 2000; i++) {
        const url = `http://x.test/${random(25)}`;
        const { first } = plan.fetchOnce(url, () => new Promise(() => undefined));
        const expected = !recent.includes(url);
        if (expected) recent.push(url);
        if (recent.length > max) recent.shift();
        wrong.check({ max, i, url }, first, expected);
      }
      expect(wrong.found).toEqual([]);
    }
  });
});

describe('fetchKey', () => {
  it.each([
    ['http://h/a', 'http://h/a'],
    ['HTTP://H/a', 'http://h/a'],
    ['hTtPs://Ex.AMPLE.com:443/a', 'https://ex.ample.com/a'],
    ['http://h:80/a', 'http://h/a'],
    ['http://h:8080/a', 'http://h:8080/a'],
    ['http://h', 'http://h/'],
    ['http://h/x/../a/./b', 'http://h/a/b'],
    ['http://h/a#one', 'http://h/a'],
    ['http://h/a?q=1#one', 'http://h/a?q=1'],
    ['http://h/a#', 'http://h/a'],
    ['http://h/a?#', 'http://h/a?'],
    ['http://h/a#b#c', 'http://h/a'],
    ['http://u:p%23@h/a%23b?c%23#d', 'http://u:p%23@h/a%23b?c%23'],
    ['http://h/%7Euser', 'http://h/%7Euser'],
    ['http://h/图片.png', 'http://h/%E5%9B%BE%E7%89%87.png'],
    ['http://例子.测试/a', 'http://xn--fsqu00a.xn--0zwm56d/a'],
    ['http://0x7f.1/a', 'http://127.0.0.1/a'],
    ['http:\\\\h\\a', 'http://h/a'],
    // Not one URL: the path's case, the query, other credentials.
    ['http://h/A', 'http://h/A'],
    ['http://h/a?', 'http://h/a?'],
    ['http://Ann:pw@h/a', 'http://Ann:pw@h/a'],
    ['http://[nope/a', 'http://[nope/a'],
  ])('%s -> %s', (url, key) => {
    expect(fetchKey(url)).toBe(key);
    expect(fetchKey(url, URL.parse(url))).toBe(key);
  });

  it("drops the fragment as the URL parser's own hash setter does", () => {
    // Random URLs of the characters that make or hide a fragment (seeded: repeatable).
    const parts = ['#', '%23', '?', '/', '\\', '@', ':', '[', ']', 'a', 'B', '..', ' ', '\t', 'é'];
    const random = seededRandom(7);
    const wrong = new Mismatches();
    for (let i = 0; i < 20_000; i++) {
      let url = ['http://', 'https://', 'HTTP:', 'ftp://', 'data:'][random(5)]!;
      for (let n = random(10); n > 0; n--) url += parts[random(parts.length)]!;
      const parsed = URL.parse(url);
      if (parsed) parsed.hash = '';
      wrong.check(url, fetchKey(url), parsed?.href ?? url);
    }
    expect(wrong.found).toEqual([]);
  });
});
