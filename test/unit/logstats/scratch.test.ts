import { describe, expect, it } from 'vitest';
import { giveTable, tableBytesInUse, takeTable } from '../../../src/logstats/scratch.ts';
import { IPv4Set } from '../../../src/logstats/ipv4-set.ts';

describe('scratch tables', () => {
  it('clears a kept table before it is handed out again', () => {
    const table = takeTable(1 << 16);
    table[5] = 7;
    giveTable(table);
    const again = takeTable(1 << 16);
    expect(again).toBe(table);
    expect(again.every((word) => word === 0)).toBe(true);
    giveTable(again);
  });

  it('hands out a table never written to as it is, without touching its pages', () => {
    const table = takeTable(1 << 17);
    // A lie, to see that the clearing was skipped: only tables nobody wrote are given so.
    table[9] = 1;
    giveTable(table, true);
    const again = takeTable(1 << 17);
    expect(again).toBe(table);
    expect(again[9]).toBe(1);
    again[9] = 0;
    giveTable(again);
  });

  it('an IPv4 set sized for many addresses that got none gives its table back untouched', () => {
    const before = tableBytesInUse();
    const unused = new IPv4Set(false, 1_000_000);
    expect(tableBytesInUse() - before).toBeGreaterThan(0);
    unused.release();
    const used = new IPv4Set(false, 1_000_000);
    used.add(0x01020304);
    used.release();
    expect(tableBytesInUse()).toBe(before);
    // Both tables came back clear: the next sets of that size start empty.
    const next = [new IPv4Set(false, 1_000_000), new IPv4Set(false, 1_000_000)];
    for (const set of next) {
      expect(set.size).toBe(0);
      expect(set.toRun().count).toBe(0);
      set.release();
    }
  });
});
