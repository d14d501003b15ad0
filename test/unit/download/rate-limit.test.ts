import { describe, expect, it } from 'vitest';
import { RateLimit } from '../../../src/download/rate-limit.ts';

describe('RateLimit', () => {
  it('lets a short burst through, then paces bytes at the rate, in order of asking', () => {
    let now = 10_000;
    const pace = new RateLimit(1000, () => now);
    // 100 ms of quiet before the first bytes: 100 bytes go at once.
    expect(pace.take(100)).toBe(0);
    expect(pace.take(500)).toBe(500);
    // A second download asking at the same moment waits behind the first.
    expect(pace.take(250)).toBe(750);
    now += 750;
    expect(pace.take(1000)).toBe(1000);
  });

  it('holds any stretch to the rate, however the bytes come', () => {
    let now = 0;
    const pace = new RateLimit(2048, () => now);
    let waited = 0;
    for (let i = 0; i < 1000; i++) {
      const wait = pace.take(64);
      waited += wait;
      now += wait;
    }
    // 64,000 bytes at 2,048 a second: 31.25 s, less the 100 ms burst.
    expect(waited).toBeCloseTo(31_250 - 100, 6);
  });

  it('does not save up a long quiet spell for later', () => {
    let now = 0;
    const pace = new RateLimit(1000, () => now);
    pace.take(1000);
    now += 60_000;
    expect(pace.take(100)).toBe(0);
    expect(pace.take(100)).toBe(100);
  });
});
