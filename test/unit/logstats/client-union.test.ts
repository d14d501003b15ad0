import { describe, expect, it } from 'vitest';
import { formatIPv4 } from '../../../src/logstats/client-ip.ts';
import { ClientUnion } from '../../../src/logstats/client-union.ts';
import { IPv4Set } from '../../../src/logstats/ipv4-set.ts';
import { IPv6Set } from '../../../src/logstats/ipv6-set.ts';
import { LineTally, type TallyResult } from '../../../src/logstats/tally.ts';

const log = (ips: readonly string[]): string =>
  ips.map((ip) => `${ip} - - [x] "GET / HTTP/1.1" 200 1\n`).join('');

function tallyOf(text: string, top: boolean): TallyResult {
  const tally = new LineTally(top);
  tally.push(Buffer.from(text));
  tally.end();
  return tally.toResult();
}

/** A scan's result that saw the IPv4 clients of `set`. */
function resultOf(set: IPv4Set): TallyResult {
  return {
    total: 0,
    malformed: 0,
    filtered: 0,
    bytes: 0,
    ipv4: set.toRun(),
    ipv6: new IPv6Set(false).toRun(),
  };
}

describe('ClientUnion', () => {
  it('is the exact union of scans, not the sum of their counts', () => {
    const union = new ClientUnion(true);
    union.add(tallyOf(log(['1.1.1.1', '2.2.2.2', '1.1.1.1']), true));
    union.add(tallyOf(log(['2.2.2.2', '3.3.3.3', '::1']), true));
    expect(union.ips).toBe(4);
    expect(union.total).toBe(6);
    expect(union.top(2)).toEqual([
      { ip: '1.1.1.1', requests: 2 },
      { ip: '2.2.2.2', requests: 2 },
    ]);
    expect(union.top(10).map((t) => t.ip)).toEqual(['1.1.1.1', '2.2.2.2', '3.3.3.3', '::1']);
  });

  it('merges big tables fast enough to finish (keys arrive in hash order)', () => {
    const a = new IPv4Set(false);
    for (let i = 0; i < 200_000; i++) a.add(i * 7919);
    const union = new ClientUnion(false);
    union.add(resultOf(a));
    union.add(resultOf(a));
    expect(union.ips).toBe(200_000);
  });

  it('equals a plain Set union over runs of every size, in any order', () => {
    let seed = 7;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const union = new ClientUnion(true);
    const expected = new Map<number, number>();
    for (const size of [5, 3000, 1, 0, 40_000, 17, 40_000, 2, 900]) {
      const set = new IPv4Set(true);
      for (let i = 0; i < size; i++) {
        // A small range, so runs share many addresses; and the top of the space.
        const ip = next(10) === 0 ? 0xffffffff - next(3) : next(60_000);
        set.add(ip);
        expected.set(ip, (expected.get(ip) ?? 0) + 1);
      }
      union.add(resultOf(set));
    }
    expect(union.ips).toBe(expected.size);
    const busiest = [...expected].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 3);
    expect(union.top(3)).toEqual(
      busiest.map(([ip, requests]) => ({ ip: formatIPv4(ip), requests })),
    );
  });

  it('stays exact when many runs pile up and merge, IPv6 and 0.0.0.0 too, and when absorbed', () => {
    let seed = 11;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    // More runs than a union holds before it merges some (held-runs.ts), of every size.
    const halves = [new ClientUnion(true), new ClientUnion(true)];
    const expected = new Map<string, number>();
    for (let run = 0; run < 100; run++) {
      const clients = Array.from({ length: [1, 20, 300, 5000][run % 4]! }, () => {
        const kind = next(10);
        return kind === 0
          ? `2001:db8::${next(500).toString(16)}`
          : kind === 1
            ? '0.0.0.0'
            : `10.0.${next(40)}.${next(250)}`;
      });
      for (const ip of clients) expected.set(ip, (expected.get(ip) ?? 0) + 1);
      halves[run % 2]!.add(tallyOf(log(clients), true));
    }
    const [union, other] = halves as [ClientUnion, ClientUnion];
    union.absorb(other);
    expect(union.ips).toBe(expected.size);
    const top = union.top(5);
    expect(top.map((t) => t.requests)).toEqual(
      [...expected.values()].sort((a, b) => b - a).slice(0, 5),
    );
    for (const { ip, requests } of top) expect(expected.get(ip)).toBe(requests);
    // Absorbed into a union without counts: the same clients.
    const plain = new ClientUnion(false);
    plain.absorb(union);
    expect(plain.ips).toBe(expected.size);
  });
});
