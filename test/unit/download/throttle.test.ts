import { describe, expect, it } from 'vitest';
import { Throttle, type Pass } from '../../../src/download/throttle.ts';

const never = new AbortController().signal;

/** `n` passes that start at once (the throttle has room for them). */
function startNow(throttle: Throttle, n: number): Pass[] {
  return Array.from({ length: n }, () => {
    const pass = throttle.start();
    if (typeof pass !== 'number') throw new Error('had to wait');
    return pass;
  });
}

describe('Throttle', () => {
  it('starts up to its limit at once, then each waiter as a request ends', async () => {
    const throttle = new Throttle(2, never);
    const [a] = startNow(throttle, 2);
    const waiting = throttle.start();
    expect(waiting).toBeInstanceOf(Promise);
    let started = false;
    void (waiting as Promise<Pass>).then(() => (started = true));
    await Promise.resolve();
    expect(started).toBe(false);
    throttle.end(a!, 'ok');
    await waiting;
    expect(started).toBe(true);
  });

  it('halves what is in flight at a shortage, once for a burst of them', () => {
    const throttle = new Throttle(100, never);
    const passes = startNow(throttle, 40);
    expect(throttle.start()).toBe(0); // 41 in flight, room for more
    // Every request in flight runs short at once: the first lowers the limit, the rest
    // started before it did and leave it be.
    expect(throttle.end(passes[0]!, 'short')).toBe(true);
    expect(throttle.limit).toBe(20);
    for (const pass of passes.slice(1)) throttle.end(pass, 'short');
    expect(throttle.limit).toBe(20);
    // One that starts now, and runs short while others are in flight, lowers it again.
    const [later] = startNow(throttle, 1);
    expect(throttle.end(later!, 'short')).toBe(true);
    expect(throttle.limit).toBe(1);
  });

  it('adds one back per limit of successes, up to its maximum', () => {
    const throttle = new Throttle(4, never);
    throttle.end(startNow(throttle, 4)[0]!, 'short'); // 4 in flight: the limit is 2
    expect(throttle.limit).toBe(2);
    const succeed = (n: number): void => {
      for (let i = 0; i < n; i++) throttle.end(startNow(throttle, 1)[0]!, 'ok');
    };
    // Three still in flight from before the shortage end, without success.
    for (let i = 0; i < 3; i++) throttle.end(0, 'other');
    succeed(1);
    expect(throttle.limit).toBe(2);
    succeed(1);
    expect(throttle.limit).toBe(3);
    succeed(3);
    expect(throttle.limit).toBe(4);
    succeed(20);
    expect(throttle.limit).toBe(4);
  });

  it('says when a request ran short alone: no other request can make room for it', () => {
    const throttle = new Throttle(8, never);
    const [alone] = startNow(throttle, 1);
    expect(throttle.end(alone!, 'short')).toBe(false);
    expect(throttle.limit).toBe(1);
    const [again] = startNow(throttle, 1);
    expect(throttle.end(again!, 'short')).toBe(false);
    expect(throttle.limit).toBe(1);
  });

  it('fails the requests still waiting when the run is aborted', async () => {
    const abort = new AbortController();
    const throttle = new Throttle(1, abort.signal);
    startNow(throttle, 1);
    const waiting = throttle.start();
    abort.abort(new Error('interrupted'));
    await expect(waiting).rejects.toThrow('interrupted');
  });
});
