/**
 * This process's secret keys for where an address goes in a hash table. A slot used to be a
 * fixed function of the address, so a log of addresses chosen to land in one stretch of
 * slots turned each insert into a walk along all of them: 100,000 such IPv4 clients (each
 * the inverse of a hash, and they look like any others) took 9-10 s to count against 0.3 s
 * for 100,000 random ones, and 50,000 of them 3.3 s: the time grew with their square.
 * Anyone with an IPv6 /64 can pick 2^64 source addresses. Runs and unions between
 * processes go by the unkeyed hash, so these keys never leave the process that made them.
 */
import { randomBytes } from 'node:crypto';

const key = randomBytes(8);
/** An odd multiplier of an IPv4 hash, whose top bits are its slot. */
export const IPV4_SLOT_KEY = key.readUInt32LE(0) | 1;
/** The seed of the IPv6 hash whose top (or, in a bucket's table, low) bits are its slot. */
export const IPV6_SLOT_SEED = key.readUInt32LE(4);

/**
 * The most slots of `slots` in a row that are `filled` (a run across the end ends there):
 * the longest walk a lookup can take, which the keys keep short whatever the addresses.
 */
export function longestRun(slots: number, filled: (slot: number) => boolean): number {
  let longest = 0;
  for (let slot = 0, run = 0; slot < slots; slot++) {
    run = filled(slot) ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}
