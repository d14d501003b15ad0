/**
 * One download, in a worker: undici with keep-alive, redirects, retries with backoff, and
 * the body streamed to a temporary file while it is hashed and measured. The parent decides
 * the final name and renames; a failure is returned as a value, never thrown.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { BodyFile } from './body-file.ts';
import { sniff } from './sniff.ts';

export interface FetchOptions {
  readonly retries: number;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Connections per origin from this worker (the parent shares --per-host between workers). */
  readonly perHost: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly anyType: boolean;
  /** First retry waits about this long; each further one doubles it (with jitter). */
  readonly backoffMs: number;
}

export interface FetchInput {
  readonly url: string;
  /** Where to write the body: a fresh name in the output directory. */
  readonly tempPath: string;
  readonly options: FetchOptions;
}

export type FetchOutcome =
  | {
      readonly ok: true;
      readonly status: number;
      readonly bytes: number;
      readonly sha256: string;
      readonly contentType: string;
      readonly ext: string;
      readonly attempts: number;
      readonly finalUrl: string;
    }
  | {
      readonly ok: false;
      readonly status: number | undefined;
      readonly error: string;
      readonly attempts: number;
    };

const MAX_REDIRECTS = 5;
const MAX_RETRY_AFTER_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;

/** A failure worth another attempt (the network, the server's 5xx, 408, 429). */
class Retryable extends Error {
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;
  constructor(message: string, status?: number, retryAfterMs?: number) {
    super(message);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A failure that another attempt would not fix (404, not an image, a redirect loop). */
class Final extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

let agent: { key: string; dispatcher: Dispatcher } | undefined;

/** One keep-alive agent per worker, reused by every download it runs. */
function dispatcherFor(options: FetchOptions): Dispatcher {
  const key = `${options.perHost}/${options.timeoutMs}`;
  if (agent?.key !== key) {
    agent = {
      key,
      // Honours HTTP_PROXY, HTTPS_PROXY and NO_PROXY; a plain keep-alive agent without them.
      dispatcher: new EnvHttpProxyAgent({
        connections: options.perHost,
        connect: { timeout: options.timeoutMs },
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        keepAliveTimeout: 10_000,
      }),
    };
  }
  return agent.dispatcher;
}

/** Downloads `input.url` into `input.tempPath`, retrying what is worth retrying. */
export async function fetchToFile(input: FetchInput): Promise<FetchOutcome> {
  const { options } = input;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const done = await attempt(input.url, input.tempPath, options);
      return { ok: true, attempts, ...done };
    } catch (error) {
      await rm(input.tempPath, { force: true });
      const retryable = error instanceof Retryable || !(error instanceof Final);
      const status =
        error instanceof Retryable || error instanceof Final ? error.status : undefined;
      if (!retryable || attempts > options.retries) {
        return { ok: false, status, error: describe(error), attempts };
      }
      const backoff = Math.min(
        MAX_BACKOFF_MS,
        options.backoffMs * 2 ** (attempts - 1) * (0.5 + Math.random()),
      );
      const wait =
        error instanceof Retryable && error.retryAfterMs !== undefined
          ? error.retryAfterMs
          : backoff;
      await sleep(wait);
    }
  }
}

async function attempt(
  url: string,
  tempPath: string,
  options: FetchOptions,
): Promise<Omit<Extract<FetchOutcome, { ok: true }>, 'ok' | 'attempts'>> {
  const seen = new Set<string>();
  let current = url;
  for (let hops = 0; ; hops++) {
    seen.add(current);
    const response = await request(current, {
      method: 'GET',
      headers: options.headers,
      dispatcher: dispatcherFor(options),
    });
    const { statusCode: status, headers } = response;
    const next = await nextHop(response, current, seen, hops);
    if (next !== undefined) {
      current = next;
      continue;
    }
    const declared = Number(header(headers, 'content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      response.body.destroy();
      throw new Final(`too big: ${declared} bytes (limit ${options.maxBytes})`, status);
    }
    const contentType = header(headers, 'content-type') ?? '';
    const hash = createHash('sha256');
    let bytes = 0;
    let head = Buffer.alloc(0);
    // 'wx': never reuse or follow whatever already sits at this path (a planted symlink).
    const file = new BodyFile(tempPath);
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > options.maxBytes) {
          response.body.destroy();
          throw new Final(`too big: over ${options.maxBytes} bytes`, status);
        }
        if (head.length < 64) head = Buffer.concat([head, chunk.subarray(0, 64)]);
        hash.update(chunk);
        await file.add(chunk);
      }
      await file.end();
    } catch (error) {
      // A connection that dies mid-body: say what arrived, the same words for any cause.
      const code = (error as { code?: string }).code;
      const cut =
        code === 'UND_ERR_SOCKET' ||
        code === 'ECONNRESET' ||
        code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
      if (Number.isFinite(declared) && bytes < declared && cut) {
        throw new Retryable(
          `body shorter than Content-Length (${bytes} of ${declared} bytes)`,
          status,
        );
      }
      throw error;
    } finally {
      await file.close();
    }
    if (Number.isFinite(declared) && bytes !== declared) {
      throw new Retryable(
        `body shorter than Content-Length (${bytes} of ${declared} bytes)`,
        status,
      );
    }
    const kind = sniff(head, contentType);
    if (!kind.image && !options.anyType) throw new Final(`not an image: ${kind.type}`, status);
    return {
      status,
      bytes,
      sha256: hash.digest('hex'),
      contentType,
      ext: kind.ext,
      finalUrl: current,
    };
  }
}

/**
 * What a response's status means before its body is read: a 200 goes on (undefined), a
 * redirect gives the URL to follow, anything else throws (Retryable or Final).
 */
async function nextHop(
  response: Dispatcher.ResponseData,
  current: string,
  seen: ReadonlySet<string>,
  hops: number,
): Promise<string | undefined> {
  const { statusCode: status, headers } = response;
  if (status >= 300 && status < 400 && status !== 304) {
    await response.body.dump();
    const location = header(headers, 'location');
    if (!location) throw new Final(`HTTP ${status} redirect without a Location`, status);
    const next = new URL(location, current);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new Final(`redirect to a non-http URL (${next.protocol})`, status);
    }
    if (seen.has(next.href)) throw new Final('redirect loop', status);
    if (hops + 1 > MAX_REDIRECTS) throw new Final(`more than ${MAX_REDIRECTS} redirects`, status);
    return next.href;
  }
  if (status !== 200) {
    await response.body.dump();
    if (status >= 500 || status === 408 || status === 429) {
      throw new Retryable(`HTTP ${status}`, status, retryAfter(header(headers, 'retry-after')));
    }
    throw new Final(`HTTP ${status}`, status);
  }
  return undefined;
}

function header(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After as milliseconds: seconds or an HTTP date, capped so a server cannot stall us. */
export function retryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const seconds = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, seconds));
}

/** A short reason a person can act on, the same words for the same cause (they get grouped). */
function describe(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'timed out connecting';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'timed out waiting for the response';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timed out: the body stalled';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return 'body shorter than Content-Length';
    default:
      break;
  }
  if (code?.startsWith('ERR_TLS') || code?.includes('CERT')) return `TLS error (${code})`;
  return e.message ?? String(error);
}
