import { describe, expect, it } from 'vitest';
import { ClientSet } from '../../../src/logstats/client-set.ts';
import type { ClientKey } from '../../../src/logstats/panels.ts';

const members = (set: ClientSet): ClientKey[] => {
  const seen: ClientKey[] = [];
  set.forEach((client) => seen.push(client));
  return seen.sort((a, b) => String(a).localeCompare(String(b)));
};

describe('ClientSet', () => {
  it.each<[string, ClientKey[], ClientKey[]]>([
    ['one address', [1], [1]],
    ['the same address twice', [7, 7], [7]],
    ['0.0.0.0 (the empty slot) is a client', [0, 0, 5], [0, 5]],
    ['255.255.255.255', [0xffffffff, 0xffffffff], [0xffffffff]],
    ['IPv6 keys beside IPv4', ['1:0:0:2', 3, '1:0:0:2'], [3, '1:0:0:2']],
  ])('%s', (_, added, want) => {
    const set = new ClientSet();
    for (const client of added) set.add(client);
    expect(set.size).toBe(want.length);
    expect(members(set)).toEqual([...want].sort((a, b) => String(a).localeCompare(String(b))));
  });

  it('stays exact as it grows past its first table, against a JS Set', () => {
    const set = new ClientSet();
    const reference = new Set<number>();
    // Sequential addresses (one subnet) and spread ones, each added twice.
    for (let i = 0; i < 50_000; i++) {
      const address = i % 2 === 0 ? 0x0a000000 + i : Math.imul(i, 0x85ebca6b) >>> 0;
      set.add(address);
      set.add(address);
      reference.add(address);
    }
    expect(set.size).toBe(reference.size);
    const seen = new Set<ClientKey>();
    set.forEach((client) => seen.add(client));
    expect(seen).toEqual(reference);
  });
});

describe('ClientSet merges', () => {
  // The order of another set's table is the order of its hashes: the case that piled up when
  // every set hashed alike (see ownMultiplier); its speed is the bench's to measure.
  it('takes every address of another set, visited in the order of its table', () => {
    const from = new ClientSet();
    for (let i = 0; i < 200_000; i++) from.add((Math.imul(i + 1, 0x9e3779b1) >>> 0) | 1);
    const into = new ClientSet();
    from.forEach((client) => into.add(client));
    into.add(1);
    expect(into.size).toBe(200_001);
  });
});
