/**
 * Host names resolved once per DNS_TTL_MS in a worker, whatever the connections: the
 * `lookup` its agent's sockets use. Without it every new connection asked the system
 * resolver again (getaddrinfo, on libuv's four-thread pool), and every row of a host that
 * does not exist waited for its own answer.
 *
 * Not undici's DNS interceptor: that rewrites each request's origin to an IP address, so
 * the agent keeps one pool per address, not per host. Hosts behind one CDN address would
 * share one pool of --per-host connections, and each change of TLS server name on a
 * connection closes it ('servername changed'), an HTTP/2 session and its streams too.
 */
import { lookup as systemLookup, type LookupAddress } from 'node:dns';

/**
 * How long an answer is kept. getaddrinfo does not tell a record's TTL; Chrome keeps its
 * answers a minute too. A host that does not exist is remembered as long.
 */
export const DNS_TTL_MS = 60_000;

/** Host names remembered at most, the oldest forgotten first: memory stays bounded. */
const MAX_NAMES = 10_000;

/** The resolver's answer for a name: every address, or the error. */
export type Resolve = (
  hostname: string,
  done: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** The `lookup` option of net.connect and tls.connect (one address, or all of them). */
export type Lookup = (
  hostname: string,
  options: { readonly family?: number | string; readonly all?: boolean },
  callback: (...answer: unknown[]) => void,
) => void;

type Answer =
  { readonly addresses: readonly LookupAddress[] } | { readonly error: NodeJS.ErrnoException };

interface Entry {
  readonly at: number;
  answer?: Answer;
  /** Lookups waiting for the resolver's answer: one question per name at a time. */
  readonly waiting: ((answer: Answer) => void)[];
}

const systemResolve: Resolve = (hostname, done) =>
  systemLookup(hostname, { all: true }, (error, addresses) => done(error, addresses));

/** A worker's memory of host names; `lookup` is what its sockets call. */
export class HostNames {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #resolve: Resolve;
  readonly #now: () => number;

  constructor(ttlMs = DNS_TTL_MS, resolve = systemResolve, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#resolve = resolve;
    this.#now = now;
  }

  /** Questions asked of the resolver so far. */
  asked = 0;

  readonly lookup: Lookup = (hostname, options, callback) => {
    this.#answer(hostname, (answer) => reply(answer, hostname, options, callback));
  };

  #answer(hostname: string, take: (answer: Answer) => void): void {
    const key = hostname.toLowerCase();
    const known = this.#entries.get(key);
    if (known !== undefined && this.#now() - known.at < this.#ttlMs) {
      if (known.answer !== undefined) take(known.answer);
      else known.waiting.push(take);
      return;
    }
    const entry: Entry = { at: this.#now(), waiting: [take] };
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > MAX_NAMES) this.#entries.delete(this.#entries.keys().next().value!);
    this.asked++;
    this.#resolve(hostname, (error, addresses) => {
      const answer: Answer = error ? { error } : { addresses };
      // A resolver that could not answer now (EAI_AGAIN) is asked again next time.
      if (error && error.code !== 'ENOTFOUND') this.#entries.delete(key);
      else entry.answer = answer;
      for (const wake of entry.waiting.splice(0)) wake(answer);
    });
  }
}

/** Hands `answer` to a socket's lookup callback in the shape it asked for. */
function reply(
  answer: Answer,
  hostname: string,
  options: Parameters<Lookup>[1],
  callback: Parameters<Lookup>[2],
): void {
  // A fresh error each time: one request's handling must not show in another's.
  if ('error' in answer) return callback(copyOf(answer.error));
  const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
  const addresses =
    family === 4 || family === 6
      ? answer.addresses.filter((address) => address.family === family)
      : answer.addresses;
  if (addresses.length === 0) {
    return callback(
      copyOf(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })),
    );
  }
  if (options.all)
    return callback(
      null,
      addresses.map((address) => ({ ...address })),
    );
  return callback(null, addresses[0]!.address, addresses[0]!.family);
}

function copyOf(error: NodeJS.ErrnoException): NodeJS.ErrnoException {
  const { code, errno, syscall, hostname } = error as NodeJS.ErrnoException & {
    hostname?: string;
  };
  return Object.assign(new Error(error.message), { code, errno, syscall, hostname });
}
