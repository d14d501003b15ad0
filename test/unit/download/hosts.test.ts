import { describe, expect, it } from 'vitest';
import {
  HostGate,
  UNREACHABLE_AFTER,
  type Refused,
  type Slot,
  type Verdict,
} from '../../../src/download/hosts.ts';

const gate = (perHost: number, lanes = 2, retries = 2, unreachablePauseMs = 100): HostGate =>
  new HostGate({
    perHost,
    lanes,
    retries,
    backoffMs: 10,
    laneLoad: () => 0,
    signal: new AbortController().signal,
    unreachablePauseMs,
  });
const refusedConnection = { kind: 'unreachable', error: 'connection refused' } as const;

/** `n` requests to `origin` one after another, each ending with `verdict`. */
async function fail(g: HostGate, origin: string, n: number, verdict: Verdict = refusedConnection) {
  for (let i = 0; i < n; i++) g.release((await g.acquire(origin)) as Slot, verdict);
}
const slowDown = (retryAfterMs?: number) =>
  ({ kind: 'slow-down', status: 429, error: 'HTTP 429', retryAfterMs }) as const;

describe('HostGate', () => {
  it('starts at most perHost requests per origin; each origin has its own slots', async () => {
    const g = gate(2);
    const started: Slot[] = [];
    for (let i = 0; i < 3; i++) void g.acquire('http://a').then((s) => started.push(s as Slot));
    const b = (await g.acquire('http://b')) as Slot;
    expect(b.origin).toBe('http://b');
    expect(started.map((s) => s.index)).toEqual([0, 1]);
    g.release(started[0]!, { kind: 'ok' });
    await Promise.resolve();
    expect(started.map((s) => s.index)).toEqual([0, 1, 0]);
  });

  it('pins a slot to a lane: the same slot always runs on the same worker', async () => {
    const g = gate(3, 2);
    const lanes = new Map<number, number>();
    for (let round = 0; round < 4; round++) {
      const slots = (await Promise.all([0, 1, 2].map(() => g.acquire('http://a')))) as Slot[];
      for (const s of slots) {
        expect(lanes.get(s.index) ?? s.lane).toBe(s.lane);
        lanes.set(s.index, s.lane);
        g.release(s, { kind: 'ok' });
      }
    }
    expect(new Set(lanes.values()).size).toBe(2);
  });

  it('pauses the whole origin for Retry-After, one request at a time after it', async () => {
    const g = gate(4);
    const first = (await g.acquire('http://a')) as Slot;
    const second = (await g.acquire('http://a')) as Slot;
    const began = Date.now();
    g.release(first, slowDown(200));
    // An answer to a request sent before the pause does not pause again.
    g.release(second, slowDown(5000));
    const next = (await g.acquire('http://a')) as Slot;
    expect(Date.now() - began).toBeGreaterThanOrEqual(190);
    let more = false;
    void g.acquire('http://a').then(() => (more = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(more).toBe(false);
    g.release(next, { kind: 'ok' });
    await Promise.resolve();
    expect(more).toBe(true);
  });

  it('gives up on an origin after retries back-offs in a row', async () => {
    const g = gate(2, 1, 1);
    g.release((await g.acquire('http://a')) as Slot, slowDown(0));
    g.release((await g.acquire('http://a')) as Slot, slowDown(0));
    expect(await g.acquire('http://a')).toEqual({
      refused: 'HTTP 429: the host asked to slow down 2 times in a row; gave up on it',
      status: 429,
    });
  });

  it('rejects waiting requests when the run is aborted', async () => {
    const controller = new AbortController();
    const g = new HostGate({
      perHost: 1,
      lanes: 1,
      retries: 1,
      backoffMs: 10,
      laneLoad: () => 0,
      signal: controller.signal,
    });
    await g.acquire('http://a');
    const waiting = g.acquire('http://a');
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });

  it('gives up on an origin after UNREACHABLE_AFTER failed connections in a row, for a while', async () => {
    const g = gate(4);
    await fail(g, 'http://dead', UNREACHABLE_AFTER);
    const refused = (await g.acquire('http://dead')) as Refused;
    expect(refused.refused).toBe(
      `connection refused: ${UNREACHABLE_AFTER} connections in a row failed; gave up on the host for 0.1 s`,
    );
    // Other origins are not held back.
    expect('index' in (await g.acquire('http://alive'))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 120));
    // After the pause one more try goes out; its failure gives up again at once.
    const probe = (await g.acquire('http://dead')) as Slot;
    expect(probe.index).toBe(0);
    g.release(probe, refusedConnection);
    expect('refused' in (await g.acquire('http://dead'))).toBe(true);
  });

  it('starts counting again after any answer, and forgets an origin that answers', async () => {
    const g = gate(4);
    await fail(g, 'http://flaky', UNREACHABLE_AFTER - 1);
    await fail(g, 'http://flaky', 1, { kind: 'other' } as const);
    await fail(g, 'http://flaky', UNREACHABLE_AFTER - 1);
    expect('index' in (await g.acquire('http://flaky'))).toBe(true);
    const g2 = gate(4, 2, 2, 10);
    await fail(g2, 'http://back', UNREACHABLE_AFTER);
    await new Promise((resolve) => setTimeout(resolve, 20));
    g2.release((await g2.acquire('http://back')) as Slot, { kind: 'ok' });
    await fail(g2, 'http://back', UNREACHABLE_AFTER - 1);
    expect('index' in (await g2.acquire('http://back'))).toBe(true);
  });

  it('refuses the requests that were waiting for a slot when it gave up', async () => {
    const g = gate(1);
    await fail(g, 'http://dead', UNREACHABLE_AFTER - 1);
    const last = (await g.acquire('http://dead')) as Slot;
    const waiting = [g.acquire('http://dead'), g.acquire('http://dead')];
    g.release(last, refusedConnection);
    const answers = await Promise.all(waiting);
    expect(answers.every((a) => 'refused' in a)).toBe(true);
  });

  it("says how many requests wait out an origin's back-off, and when they stop", async () => {
    let backingOff = 0;
    const g = new HostGate({
      perHost: 2,
      lanes: 1,
      retries: 5,
      backoffMs: 50,
      laneLoad: () => 0,
      signal: new AbortController().signal,
      onBackingOff: (change) => (backingOff += change),
    });
    const first = (await g.acquire('http://a')) as Slot;
    // The second gets the other slot; the third waits for one, which is not a back-off.
    const queued = [g.acquire('http://a'), g.acquire('http://a')];
    expect(backingOff).toBe(0);
    g.release(first, slowDown(40));
    expect(backingOff).toBe(1);
    const late = g.acquire('http://a');
    expect(backingOff).toBe(2);
    // Another origin's requests are not held by a's back-off.
    g.release((await g.acquire('http://b')) as Slot, { kind: 'ok' });
    // A request sent before the back-off ends; the waiters still wait it out.
    const second = (await queued[0]) as Slot;
    expect(backingOff).toBe(2);
    g.release(second, { kind: 'ok' });
    // It answered well: the waiters are plain waiters again.
    expect(backingOff).toBe(0);
    g.release((await queued[1]) as Slot, { kind: 'ok' });
    g.release((await late) as Slot, { kind: 'ok' });
    expect(backingOff).toBe(0);
  });
});
