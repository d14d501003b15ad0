/**
 * How a download worker's undici agent is set up: keep-alive, timeouts, the HTTP versions
 * offered to HTTPS origins, and HTTP/2 flow-control windows sized for long fat pipes.
 */
import { createSecureContext, getCACertificates, type SecureContext } from 'node:tls';
import type { EnvHttpProxyAgent } from 'undici';
import type { FetchOptions, HttpVersion } from './fetch.ts';
import type { Lookup } from './host-names.ts';

/**
 * HTTP/2 flow-control windows: how much a server may send before crew says it read it.
 * undici's own (256 KiB a stream, 512 KiB a connection) let one host send 512 KiB per
 * round trip, 5 MiB/s at 100 ms whatever the link: 100 x 2 MiB from 4 hosts took 14.6 s
 * there, 5.6 s with these (`npm run bench -- network`, BENCHMARKS.md); curl asks for 32
 * MiB. A paused body (a slow disk) holds at most a stream's window in memory, a
 * connection's at most its window.
 */
export const H2_STREAM_WINDOW = 8 * 1024 * 1024;
export const H2_CONNECTION_WINDOW = 32 * 1024 * 1024;

/**
 * `auto` offers HTTP/1.1 and h2 and lets the server choose (most choose h2); --http2 asks
 * for h2 first; --http1.1 offers HTTP/1.1 alone. With these windows, h2 (one connection a
 * host) was as fast as HTTP/1.1 with up to 16 connections a host, and took 10-20% less CPU
 * (fewer TLS sockets and handshakes): 100 x 2 MiB from 4 hosts at 20 ms, 4.8-5.4 s against
 * 5.2-10.9 s, CPU 1.9-2.1 s against 2.4-2.9 s (`npm run bench -- network`, BENCHMARKS.md).
 */
const ALPN: Record<HttpVersion, { allowH2: boolean; preferH2: boolean }> = {
  auto: { allowH2: true, preferH2: false },
  '2': { allowH2: true, preferH2: true },
  '1.1': { allowH2: false, preferH2: false },
};

/**
 * The options of a worker's agent. Up to --per-host connections per origin (the parent
 * hands out the slots, so a worker never opens more than its share); over HTTP/2 the slots
 * are streams on one connection. Its sockets find host names through `lookup` (the
 * worker's memory of them, host-names.ts); through a proxy, the proxy resolves them.
 */
export function agentOptions(
  options: Pick<FetchOptions, 'perHost' | 'timeoutMs' | 'http' | 'ca'>,
  lookup?: Lookup,
): EnvHttpProxyAgent.Options {
  const { allowH2, preferH2 } = ALPN[options.http];
  const trust = options.ca === undefined ? {} : { secureContext: trustingAlso(options.ca) };
  return {
    connections: options.perHost,
    connect: { timeout: options.timeoutMs, preferH2, ...trust, ...(lookup ? { lookup } : {}) },
    // Through an HTTPS_PROXY, the tunnel's TLS to the origin.
    ...(options.ca === undefined ? {} : { requestTls: trust }),
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    keepAliveTimeout: 10_000,
    allowH2,
    // The top-level names, not h2Options.settings.initialWindowSize: undici 8.13 checks
    // that one and never sends it (a server saw 256 KiB).
    ...(allowH2
      ? { initialWindowSize: H2_STREAM_WINDOW, connectionWindowSize: H2_CONNECTION_WINDOW }
      : {}),
  };
}

/**
 * A TLS context that trusts what Node trusts by default (its bundled CAs, and
 * NODE_EXTRA_CA_CERTS) and the PEM certificates in `ca` too. Made once per agent: a `ca`
 * list in the connect options would build a context of 140-odd certificates per connection.
 */
function trustingAlso(ca: string): SecureContext {
  return createSecureContext({ ca: [...getCACertificates('default'), ca] });
}
