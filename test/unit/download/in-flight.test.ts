import { describe, expect, it } from 'vitest';
import { InFlight } from '../../../src/download/run.ts';

/** A task and the functions that settle it. */
function task(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Whether `promise` has settled once pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('InFlight', () => {
  it('lets the reader go on only while there is room, and again as each row ends', async () => {
    const rows = new InFlight(2, () => undefined);
    const [a, b, c] = [task(), task(), task()];
    expect(await settled(rows.add(a.promise))).toBe(true);
    const full = rows.add(b.promise);
    expect(await settled(full)).toBe(false);
    b.resolve(); // any row ending makes room, not only the first one added
    expect(await settled(full)).toBe(true);
    const again = rows.add(c.promise);
    expect(await settled(again)).toBe(false);
    a.resolve();
    expect(await settled(again)).toBe(true);
    const all = rows.all();
    expect(await settled(all)).toBe(false);
    c.resolve();
    await expect(all).resolves.toBeUndefined();
  });

  it('tells a failure at once and stops the reader, even while it waits for room', async () => {
    const heard: unknown[] = [];
    const rows = new InFlight(1, (error) => heard.push(error));
    const [a, b] = [task(), task()];
    const waiting = rows.add(a.promise);
    expect(await settled(waiting)).toBe(false);
    a.reject(new Error('disk full'));
    await expect(waiting).rejects.toThrow('disk full');
    expect(heard).toEqual([new Error('disk full')]);
    // Rows added after it (one the reader had in hand) still end before all() says so.
    await expect(rows.add(b.promise)).rejects.toThrow('disk full');
    const all = rows.all();
    expect(await settled(all)).toBe(false);
    b.resolve();
    await expect(all).rejects.toThrow('disk full');
  });

  it('does not count rows waiting out a back-off, up to maxBackingOff of them', async () => {
    const rows = new InFlight(2, () => undefined, 2);
    const [a, b, c, d, e] = [task(), task(), task(), task(), task()];
    await rows.add(a.promise);
    const full = rows.add(b.promise);
    expect(await settled(full)).toBe(false);
    rows.backingOff(1); // a sleeps: its place goes to the next row at once
    expect(await settled(full)).toBe(true);
    const again = rows.add(c.promise);
    expect(await settled(again)).toBe(false);
    rows.backingOff(1);
    expect(await settled(again)).toBe(true);
    // Two rows asleep, the most it discounts: a third does not make room.
    const bounded = rows.add(d.promise);
    expect(await settled(bounded)).toBe(false);
    rows.backingOff(1);
    expect(await settled(bounded)).toBe(false);
    rows.backingOff(-1);
    c.resolve();
    expect(await settled(bounded)).toBe(true);
    // Rows that woke count again: a, b and d in flight, two asleep discounted.
    rows.backingOff(-2);
    const last = rows.add(e.promise);
    expect(await settled(last)).toBe(false);
    for (const row of [a, b, d, e]) row.resolve();
    await expect(last).resolves.toBeUndefined();
    await expect(rows.all()).resolves.toBeUndefined();
  });
});
