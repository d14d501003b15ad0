/**
 * The distinct clients of one panel row (a path's): IPv4 addresses in a small open-addressing
 * table of uint32 that starts at 8 slots and doubles, IPv6 keys in a Set. A busy path sees
 * hundreds of thousands of clients, most rows one or two: a JS Set of numbers cost ~50 bytes
 * an entry and most of the panels' time in hashing and collecting; this costs 4 to 8. Pure.
 */
import type { ClientKey } from './panels.ts';

const FIRST_SLOTS = 8;

/**
 * Multiply-shift hashing with an odd multiplier of the set's own. One multiplier for all
 * sets would be quadratic: a merge adds one set's addresses in its table's order, which is
 * the order of their hashes, and into another table of the same hash they would all pile up
 * at its start while it grows.
 */
const ownMultiplier = (): number => (Math.floor(Math.random() * 0x100000000) | 1) >>> 0;

export class ClientSet {
  /** IPv4 addresses; 0 marks an empty slot, so 0.0.0.0 is held aside in `#zero`. */
  #table = new Uint32Array(FIRST_SLOTS);
  #shift = 32 - Math.log2(FIRST_SLOTS);
  #used = 0;
  #zero = false;
  #ipv6: Set<string> | undefined;
  readonly #multiplier = ownMultiplier();

  get size(): number {
    return this.#used + (this.#zero ? 1 : 0) + (this.#ipv6?.size ?? 0);
  }

  add(client: ClientKey): void {
    if (typeof client === 'string') (this.#ipv6 ??= new Set()).add(client);
    else if (client === 0) this.#zero = true;
    else this.#addIPv4(client);
  }

  #addIPv4(address: number): void {
    const table = this.#table;
    const mask = table.length - 1;
    let slot = Math.imul(address, this.#multiplier) >>> this.#shift;
    for (;;) {
      const held = table[slot]!;
      if (held === address) return;
      if (held === 0) break;
      slot = (slot + 1) & mask;
    }
    table[slot] = address;
    if (++this.#used * 4 > table.length * 3) this.#grow();
  }

  #grow(): void {
    const old = this.#table;
    this.#table = new Uint32Array(old.length * 2);
    this.#shift--;
    this.#used = 0;
    for (const address of old) if (address !== 0) this.#addIPv4(address);
  }

  /** Visits every client once, in no particular order. */
  forEach(visit: (client: ClientKey) => void): void {
    if (this.#zero) visit(0);
    for (const address of this.#table) if (address !== 0) visit(address);
    this.#ipv6?.forEach((key) => visit(key));
  }
}
