/**
 * `--robots-txt`: each origin's robots.txt, fetched once for the run (the first row of an
 * origin waits for it, later rows share it), at most MAX_ROBOTS_BYTES of it and for at most
 * --timeout, and the verdict on each URL for crew's robot names (robots-txt.ts). Fetched in
 * the parent (one small request per origin, not worth a worker task) through an agent set up
 * as the workers' are (agent.ts): the same --cacert, HTTP versions, timeouts and proxy, so an
 * origin crew can download from is one whose robots.txt it can read.
 */
import { EnvHttpProxyAgent, fetch, type Dispatcher, type Response } from 'undici';
import { agentOptions } from './agent.ts';
import type { FetchOptions } from './fetch.ts';
import { capText } from './limits.ts';
import {
  ALLOW_ALL,
  MAX_ROBOTS_BYTES,
  normalise,
  robotRules,
  type RobotRules,
} from './robots-txt.ts';

/** The agent robots.txt requests go through: the workers' settings, one connection an origin. */
export const robotsDispatcher = (
  options: Pick<FetchOptions, 'timeoutMs' | 'http' | 'ca'>,
): Dispatcher => new EnvHttpProxyAgent(agentOptions({ ...options, perHost: 1 }));

/** Origins remembered; past this the oldest is forgotten (and fetched again if it recurs). */
const MAX_ORIGINS = 10_000;

/** Why a URL is not fetched: robots.txt disallows it (opted out), or could not be read. */
export type RobotsVerdict =
  | undefined
  | { readonly optedOut: true; readonly error: string }
  | { readonly optedOut: false; readonly error: string };

export interface RobotsOptions {
  readonly userAgent: string;
  /** crew's robot names, lower case. */
  readonly agents: readonly string[];
  readonly timeoutMs: number;
  /** The agent robots.txt is read through; closed by `close`. */
  readonly dispatcher: Dispatcher;
}

export class RobotsCache {
  readonly #options: RobotsOptions;
  readonly #signal: AbortSignal;
  readonly #byOrigin = new Map<string, Promise<RobotRules | string>>();

  constructor(options: RobotsOptions, signal: AbortSignal) {
    this.#options = options;
    this.#signal = signal;
  }

  /** What the URL's origin's robots.txt says of it; undefined: it may be fetched. */
  async verdict(url: string): Promise<RobotsVerdict> {
    const target = URL.parse(url);
    if (target === null) return undefined; // the fetch says why
    let rules = this.#byOrigin.get(target.origin);
    if (rules === undefined) {
      rules = this.#fetch(target.origin);
      this.#byOrigin.set(target.origin, rules);
      if (this.#byOrigin.size > MAX_ORIGINS) {
        this.#byOrigin.delete(this.#byOrigin.keys().next().value!);
      }
    }
    const known = await rules;
    if (typeof known === 'string') return { optedOut: false, error: known };
    return known.allows(normalise(`${target.pathname}${target.search}`))
      ? undefined
      : { optedOut: true, error: 'disallowed by robots.txt' };
  }

  /**
   * The rules of `origin`'s robots.txt: none (all allowed) when it has none (4xx); a
   * failure's words when it cannot be read (5xx, the network), as RFC 9309 asks: the rows
   * fail, and a re-run asks again.
   */
  async #fetch(origin: string): Promise<RobotRules | string> {
    const { userAgent, agents, timeoutMs } = this.#options;
    try {
      const response = await fetch(`${origin}/robots.txt`, {
        dispatcher: this.#options.dispatcher,
        headers: { 'user-agent': userAgent },
        redirect: 'follow',
        signal: AbortSignal.any([this.#signal, AbortSignal.timeout(timeoutMs)]),
      });
      if (response.status >= 400 && response.status < 500) {
        await response.body?.cancel();
        return ALLOW_ALL;
      }
      if (!response.ok) {
        await response.body?.cancel();
        return `robots.txt could not be read (HTTP ${response.status})`;
      }
      return robotRules(await capped(response), agents);
    } catch (error) {
      this.#signal.throwIfAborted();
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      const why = cause ?? (error as Error).message;
      return `robots.txt could not be read (${capText(String(why), 100)})`;
    }
  }

  /** Closes the connections robots.txt was read over. */
  async close(): Promise<void> {
    await this.#options.dispatcher.destroy();
  }
}

/** A response's body as text, the first MAX_ROBOTS_BYTES of it. */
async function capped(response: Response): Promise<string> {
  const reader = response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    bytes += value.length;
    if (bytes >= MAX_ROBOTS_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_ROBOTS_BYTES).toString('utf8');
}
