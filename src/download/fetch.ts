/**
 * One request of a download, in a worker: undici with keep-alive (through exchange.ts, not
 * undici's `request`), redirects on the same origin, the body streamed to a temporary file
 * while it is hashed and measured, and the file renamed to its final name once whole. The
 * parent (fetcher.ts) decides when a request may start, follows redirects to other origins,
 * and retries; a failure is returned as a value, never thrown.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { agentOptions } from './agent.ts';
import { BodyFile } from './body-file.ts';
import { exchange, type Headers, type Response } from './exchange.ts';
import { isOutputProblem, outOfDescriptors, reasonWithoutPaths } from './errors.ts';
import { HostNames } from './host-names.ts';
import { RateLimit } from './rate-limit.ts';
import { imageSize, SIZE_HEAD_BYTES } from './image-size.ts';
import { capText, MAX_URL_BYTES } from './limits.ts';
import { optOutDirective, type OptOutRule } from './opt-out.ts';
import { sniff } from './sniff.ts';
import type { ImageSizes } from './resize.ts';
import type { ResizeOptions } from './resize-plan.ts';
import { newTempFile } from './store.ts';

export interface FetchOptions {
  readonly retries: number;
  readonly timeoutMs: number;
  /** The longest one request may take, from connecting to its last body byte. */
  readonly maxTimeMs: number;
  readonly maxBytes: number;
  /** Connections per origin, all workers together (the parent hands out the slots). */
  readonly perHost: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Send credentials to every origin a redirect leads to (curl's --location-trusted). */
  readonly locationTrusted: boolean;
  readonly anyType: boolean;
  /** First retry waits about this long; each further one doubles it (with jitter). */
  readonly backoffMs: number;
  /**
   * Keep stack traces on errors in the worker (--debug, and inline, where the worker is crew
   * itself). Without, a failed request costs less: a refused connection builds three errors,
   * and capturing their stacks was 12% of the time of 100,000 rows to a closed port.
   */
  readonly stacks: boolean;
  /** The HTTP versions offered to HTTPS origins: --http1.1, --http2, or crew's choice. */
  readonly http: HttpVersion;
  /**
   * --cacert: PEM certificates of CAs trusted besides the system's (ca.ts), as text: a
   * worker on another machine gets what the run read, not a path.
   */
  readonly ca?: string;
  /**
   * --limit-rate's share of this worker: the bytes of bodies per second, all its downloads
   * together (rate-limit.ts); absent: no limit.
   */
  readonly rateLimit?: number;
  /** Responses whose X-Robots-Tag says one of these are not kept; null: --ignore-opt-out. */
  readonly optOut?: OptOutRule | null;
  /**
   * The image step for every body that arrives whole (resize.ts): resize, re-encode, filter;
   * absent when the run keeps files as served.
   */
  readonly resize?: ResizeOptions;
}

/**
 * `auto`: the server chooses between the HTTP/1.1 and h2 crew offers (agent.ts); `1.1`:
 * HTTP/1.1 only (curl's --http1.1); `2`: h2 asked for first (curl's --http2; plain http://
 * stays HTTP/1.1).
 */
export type HttpVersion = 'auto' | '1.1' | '2';

/** What a worker is asked: one request, following redirects while they stay on its origin. */
export interface FetchInput {
  readonly url: string;
  /**
   * The run's temp folder (absolute): the body goes to a fresh file of its own there, and
   * stays there. A worker never gives a file its final name: the parent does, in the same
   * turn as it queues the row's manifest line, so no signal, full disk or forged queue row
   * can leave a named file without its line (the run ended after the worker named it, and
   * before its answer arrived, in 1 run of 4 stopped with Ctrl-C).
   */
  readonly tempFolder: string;
  /**
   * A body that arrives whole in memory (under HELD_BYTES) comes back in
   * the result (`body`) and is never written to a temp file (webdataset output appends it
   * to its tar from there). Never for a queue worker: its results cross the database.
   */
  readonly bodyInMemory?: true;
  /** The headers for this origin (the parent drops credentials on other origins). */
  readonly headers: Readonly<Record<string, string>>;
  /** URLs this download already visited, for loops. */
  readonly visited: readonly string[];
  readonly options: FetchOptions;
}

/** Where a whole body is: in its temp file, or in memory (the input asked `bodyInMemory`). */
export type Landed = { readonly temp: string } | { readonly body: Uint8Array };

/** What the parent reports for a URL, after every request and retry. */
export type FetchOutcome =
  | ({
      readonly ok: true;
      readonly status: number;
      readonly bytes: number;
      readonly sha256: string;
      readonly contentType: string;
      readonly ext: string;
      readonly attempts: number;
      readonly finalUrl: string;
      /** The image's size, when its header could be read (image-size.ts). */
      readonly width?: number;
      readonly height?: number;
      /** The image's sizes, when the image step ran (then bytes and sha256 are the saved file's). */
      readonly image?: ImageSizes;
    } & Landed)
  | ({
      readonly ok: false;
      readonly status: number | undefined;
      readonly error: string;
      readonly attempts: number;
      /** The body could not be stored because --out as a whole is unusable (a full disk). */
      readonly output?: true;
      /** The server opted out of the image's use (X-Robots-Tag): not a failure. */
      readonly optedOut?: true;
    } & Rejected);

/** What the image step says of a body it did not keep. */
export interface Rejected {
  /** Outside a filter (--min-image-size...): the row is `filtered`, not failed. */
  readonly filtered?: true;
  readonly image?: ImageSizes;
}

/**
 * What a request received, before it is placed. With the image step or `bodyInMemory`, a
 * small body is `held` in memory instead of its temp file (nothing is at `temp` then); with
 * the image step it has no sha256 yet (the step hashes what it saves). `held` leaves the
 * worker only as `body`.
 */
type Received = Omit<Extract<FetchOutcome, { ok: true }>, 'ok' | 'attempts' | 'temp' | 'body'> & {
  readonly temp: string;
  readonly held?: Buffer;
};

/** What one request in a worker gave. */
export type RequestResult =
  | ({ readonly kind: 'ok' } & Omit<Received, 'temp'> & Landed)
  /** A redirect to another origin: the parent follows it (with that origin's slot). */
  | {
      readonly kind: 'redirect';
      readonly status: number;
      readonly url: string;
      readonly visited: readonly string[];
    }
  | ({
      readonly kind: 'failed';
      /** Storing the body failed because --out as a whole is unusable (a full disk). */
      readonly output?: true;
      readonly status: number | undefined;
      readonly error: string;
      /**
       * no: final; yes: worth another try; slow-down: the host asked (429, 503); fewer: the
       * process ran out of file descriptors (try again with fewer requests in flight).
       */
      readonly retry: 'no' | 'yes' | 'slow-down' | 'fewer';
      readonly retryAfterMs: number | undefined;
      /** No connection was made: refused, no such host, or timed out connecting. */
      readonly unreachable?: true;
      /** The server opted out of the image's use (X-Robots-Tag). */
      readonly optedOut?: true;
    } & Rejected);

export const MAX_REDIRECTS = 5;
const MAX_RETRY_AFTER_MS = 60_000;

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

/** Storing the body failed (open, write, close of the temp file): the disk's words in `cause`. */
class OnDisk extends Error {}

/** Runs a file operation; its failure becomes OnDisk, told apart from the network's. */
const onDisk = async <T>(operation: Promise<T>): Promise<T> => {
  try {
    return await operation;
  } catch (error) {
    throw new OnDisk(reasonWithoutPaths(error), { cause: error });
  }
};

/** A failure that another attempt would not fix (404, not an image, a redirect loop). */
class Final extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

/** The response's X-Robots-Tag opts out of what crew would do with it: never retried. */
class OptedOut extends Error {
  readonly status: number;
  constructor(directive: string, status: number) {
    super(`opted out: X-Robots-Tag ${directive}`);
    this.status = status;
  }
}

/** The parent's answer to a cross-origin redirect: the worker stops and hands it back. */
class LeavesOrigin extends Error {
  readonly url: string;
  readonly status: number;
  constructor(url: string, status: number) {
    super('redirect to another origin');
    this.url = url;
    this.status = status;
  }
}

let agent: { key: string; ca: string | undefined; dispatcher: Dispatcher } | undefined;

/** This worker's host names, kept for the run: a retired agent's successor uses them too. */
const hostNames = new HostNames();

let pace: RateLimit | undefined;

/** This worker's pace for body bytes under --limit-rate, shared by all its downloads. */
function paceFor(options: FetchOptions): RateLimit | undefined {
  if (options.rateLimit === undefined) return undefined;
  if (pace?.bytesPerSecond !== options.rateLimit) pace = new RateLimit(options.rateLimit);
  return pace;
}

/** One keep-alive agent per worker, reused by every download it runs. */
function dispatcherFor(options: FetchOptions): Dispatcher {
  const key = `${options.perHost}/${options.timeoutMs}/${options.http}`;
  // The CA text compared apart: not copied into a new key string for every request.
  if (agent?.key !== key || agent.ca !== options.ca) {
    // Honours HTTP_PROXY, HTTPS_PROXY and NO_PROXY; a plain keep-alive agent without them.
    const dispatcher = new EnvHttpProxyAgent(agentOptions(options, hostNames.lookup));
    agent = { key, ca: options.ca, dispatcher };
  }
  return agent.dispatcher;
}

/**
 * Closes this worker's agent once its requests in flight end, and starts a new one on the
 * next request. Its idle keep-alive sockets held the descriptors a shortage needs: after a
 * burst of 100 requests under `ulimit -n 64`, even one request at a time could not open
 * its temp file until the server closed them (5 to 10 s later).
 */
function retireAgent(): void {
  const retired = agent?.dispatcher;
  agent = undefined;
  retired?.close().catch(() => undefined);
}

/**
 * One request for `input.url` into `input.tempPath`, following redirects that stay on its
 * origin. Leaves no temp file unless it succeeded.
 */
export async function fetchOnce(input: FetchInput): Promise<RequestResult> {
  // Failures come back as values with their reasons; a stack would never be shown.
  if (!input.options.stacks) Error.stackTraceLimit = 0;
  const visited = new Set(input.visited);
  // Not AbortSignal.timeout: its timer lives on (held weakly, freed only by a full GC) for
  // the whole --max-time after the request ended, so every request's signal and timer were
  // promoted to the old generation; a million rows grew each worker's heap by hundreds of MB.
  const expiry = new AbortController();
  const deadline = expiry.signal;
  const clock = setTimeout(() => expiry.abort(new Error('--max-time')), input.options.maxTimeMs);
  const body: { file?: BodyFile } = {};
  try {
    const shaped = await imageStep(await attempt(input, visited, deadline, body), input);
    if ('kind' in shaped) return shaped;
    const { temp, held, ...done } = shaped;
    const landed = held ? { body: exactly(held) } : { temp };
    // undici frees the socket a tick after the body ends; the parent starts this slot's next
    // request as soon as this returns, which would otherwise open a socket beside it.
    await new Promise((resolve) => setImmediate(resolve));
    return { kind: 'ok', ...done, ...landed };
  } catch (error) {
    // Only a body that began has a file to remove: most failures (a refused connection, a
    // 404) never made one, and an awaited rm cost each a trip through libuv's thread pool.
    if (body.file?.touched) rmSync(body.file.path, { force: true });
    const short = outOfDescriptors(error);
    if (short) {
      // Out of descriptors for a socket or a file: not this URL's fault, nor the disk's.
      retireAgent();
      return failed(undefined, `too many open files (${short})`, 'fewer');
    }
    if (error instanceof OnDisk) {
      // Never retried: the same disk fails the same way; a full or unusable --out stops the run.
      const output = isOutputProblem(error.cause);
      return { ...failed(undefined, error.message, 'no'), ...(output ? { output } : {}) };
    }
    if (error instanceof LeavesOrigin) {
      return { kind: 'redirect', status: error.status, url: error.url, visited: [...visited] };
    }
    if (error instanceof OptedOut) {
      return { ...failed(error.status, error.message, 'no'), optedOut: true };
    }
    const status = error instanceof Retryable || error instanceof Final ? error.status : undefined;
    if (deadline.aborted) {
      const seconds = input.options.maxTimeMs / 1000;
      return failed(status, `took longer than --max-time (${seconds} s)`, 'no');
    }
    if (error instanceof Final || cannotSucceed(error))
      return failed(status, describe(error), 'no');
    const slowDown = status === 429 || status === 503;
    const retryAfterMs = error instanceof Retryable ? error.retryAfterMs : undefined;
    const retry = slowDown ? 'slow-down' : 'yes';
    return failed(status, describe(error), retry, retryAfterMs, neverConnected(error));
  } finally {
    clearTimeout(clock);
  }
}

/**
 * The image step (resize.ts) on a whole body, when the run resizes or filters images: what it
 * saves takes the body's place; an image it rejects ends the request, never retried (the same
 * bytes would come again). Runs before the body gets its name, so a file under its final name
 * is always the finished one. sharp loads on the first image, never in a run without the step.
 */
async function imageStep(received: Received, input: FetchInput): Promise<Received | RequestResult> {
  const options = input.options.resize;
  if (options === undefined) return received;
  const { reshape } = await import('./resize.ts');
  const shaped = await onDisk(reshape(received, options, input.tempFolder));
  if (shaped.kind === 'saved') {
    const { held, ...rest } = received;
    const { kind, ...saved } = shaped;
    // The size is the saved image's from here on (sidecars, shard tables, the manifest).
    const { width, height } = saved.image;
    return {
      ...rest,
      ...saved,
      ...(width === undefined ? {} : { width }),
      ...(height === undefined ? {} : { height }),
    };
  }
  const { filtered, reason, image } = shaped;
  return {
    ...failed(received.status, reason, 'no'),
    ...(filtered ? { filtered } : {}),
    ...(image ? { image } : {}),
  };
}

/**
 * The bytes of `held` in an ArrayBuffer of their own: a Buffer may be a view into a bigger
 * one (Node's pool, a socket's read), and passing it to the parent would copy all of that.
 */
const exactly = (held: Buffer): Uint8Array =>
  held.byteOffset === 0 && held.byteLength === held.buffer.byteLength ? held : new Uint8Array(held);

const failed = (
  status: number | undefined,
  error: string,
  retry: 'no' | 'yes' | 'slow-down' | 'fewer',
  retryAfterMs?: number,
  unreachable = false,
): Extract<RequestResult, { kind: 'failed' }> => ({
  kind: 'failed',
  status,
  error: capText(error),
  retry,
  retryAfterMs,
  ...(unreachable ? { unreachable } : {}),
});

async function attempt(
  input: FetchInput,
  seen: Set<string>,
  deadline: AbortSignal,
  body: { file?: BodyFile },
): Promise<Received> {
  const { options } = input;
  let current = input.url;
  for (;;) {
    seen.add(current);
    const response = await exchange(dispatcherFor(options), current, input.headers, deadline);
    const { status, headers } = response;
    const next = await nextHop(response, current, seen);
    if (next !== undefined) {
      if (new URL(next).origin !== new URL(current).origin) throw new LeavesOrigin(next, status);
      current = next;
      continue;
    }
    const directive = options.optOut
      ? optOutDirective(values(headers, 'x-robots-tag'), options.optOut)
      : undefined;
    if (directive !== undefined) {
      await response.drain();
      throw new OptedOut(directive, status);
    }
    const encodings = contentCodings(headers);
    if (encodings.length > 0) {
      // We never ask for compression; a body sent compressed anyway is not the image itself.
      response.discard();
      throw new Final(
        `compressed body (Content-Encoding: ${capText(encodings.join(', '), 40)}) not saved`,
        status,
      );
    }
    const declared = Number(header(headers, 'content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      response.discard();
      throw new Final(`too big: ${declared} bytes (limit ${options.maxBytes})`, status);
    }
    const contentType = header(headers, 'content-type') ?? '';
    // With the image step, the manifest's sha256 is the saved file's: resize.ts hashes that.
    const hash = options.resize ? undefined : createHash('sha256');
    let bytes = 0;
    // The body's first bytes, for what it is (sniff.ts) and its size (image-size.ts).
    const head: Buffer[] = [];
    let headBytes = 0;
    let held: Buffer | undefined;
    // 'wx': never reuse or follow whatever already sits at this path (a planted symlink).
    const file = new BodyFile(newTempFile(input.tempFolder));
    body.file = file;
    const rate = paceFor(options);
    try {
      await response.read((chunk) => {
        bytes += chunk.length;
        if (bytes > options.maxBytes) {
          throw new Final(`too big: over ${options.maxBytes} bytes`, status);
        }
        if (headBytes < SIZE_HEAD_BYTES) {
          const part = chunk.subarray(0, SIZE_HEAD_BYTES - headBytes);
          head.push(part);
          headBytes += part.length;
        }
        hash?.update(chunk);
        const flushing = file.add(chunk);
        const writing = flushing && onDisk(flushing);
        // Over --limit-rate, the body waits (its connection paused) until its bytes are due.
        const wait = rate?.take(chunk.length) ?? 0;
        return wait > 0 ? Promise.all([writing, sleep(wait)]).then(() => undefined) : writing;
      });
      // The image step reads a body whole: a small one goes to it from memory, not written
      // to its temp file only to be read back; a bigger one is on disk already. One waiting
      // for sharp stays in memory, as much as it held while it arrived: the request is still
      // in flight, so this is bounded by requests in flight x HELD_BYTES, as before.
      // Webdataset output (`bodyInMemory`) appends it to its tar from memory in the parent:
      // a temp file created, read back and removed for every row cost more than the rest of
      // the row together (ext4 searches its free inodes for each new file).
      const inMemory = options.resize !== undefined || input.bodyInMemory === true;
      held = inMemory ? file.takeHeld() : undefined;
      if (held === undefined) await onDisk(file.end());
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
      await onDisk(file.close());
    }
    if (Number.isFinite(declared) && bytes !== declared) {
      throw new Retryable(
        `body shorter than Content-Length (${bytes} of ${declared} bytes)`,
        status,
      );
    }
    const start = head.length === 1 ? head[0]! : Buffer.concat(head);
    const kind = sniff(start, contentType);
    if (!kind.image && !options.anyType) throw new Final(`not an image: ${kind.type}`, status);
    const size = imageSize(start);
    return {
      status,
      bytes,
      sha256: hash?.digest('hex') ?? '', // '': the image step sets it, or the row fails
      contentType,
      ext: kind.ext,
      finalUrl: current,
      temp: file.path,
      ...size,
      ...(held ? { held } : {}),
    };
  }
}

/**
 * What a response's status means before its body is read: a 200 goes on (undefined), a
 * redirect gives the URL to follow, anything else throws (Retryable or Final).
 */
async function nextHop(
  response: Response,
  current: string,
  seen: ReadonlySet<string>,
): Promise<string | undefined> {
  const { status, headers } = response;
  if (status >= 300 && status < 400 && status !== 304) {
    await response.drain();
    const location = header(headers, 'location');
    if (!location) throw new Final(`HTTP ${status} redirect without a Location`, status);
    const refused = refuseRedirect(location, current, seen);
    if (typeof refused === 'string') throw new Final(refused, status);
    return refused.href;
  }
  if (status !== 200) {
    await response.drain();
    if (status >= 500 || status === 408 || status === 429) {
      throw new Retryable(`HTTP ${status}`, status, retryAfter(header(headers, 'retry-after')));
    }
    throw new Final(`HTTP ${status}`, status);
  }
  return undefined;
}

/** Every value of a header the response may send several times. */
function values(headers: Headers, name: string): string[] {
  const value = headers[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The content codings a response says its body is in, from every Content-Encoding header
 * (a server may send several) and every comma-separated name in each; `identity` (none)
 * left out.
 */
export function contentCodings(headers: Headers): string[] {
  const value = headers['content-encoding'];
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values
    .flatMap((text) => text.split(','))
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '' && name !== 'identity');
}

/** Retry-After as milliseconds: seconds or an HTTP date, capped so a server cannot stall us. */
export function retryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const seconds = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, seconds));
}

/**
 * Whether the request failed before any connection was made, so the host is down (not a
 * failure of this URL). EAI_AGAIN (a resolver that could not answer now) is left out: it
 * says nothing about the host; ENOTFOUND never gets here (each row fails at once).
 */
function neverConnected(error: unknown): boolean {
  const code = codeOf(error);
  return (
    code === 'ECONNREFUSED' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  );
}

/**
 * OpenSSL's verdicts on a certificate (Node's error codes for them), and Node's own on its
 * host name: the certificate is what it is on the next attempt too.
 */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The verdicts that say the certificate's CA is not one crew trusts (a private CA's). */
const UNKNOWN_ISSUER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
]);

/**
 * A failure no attempt can get past: a certificate that is not trusted, a host name the DNS
 * does not know, or response headers bigger than undici reads (the server sends the same
 * ones again). Retrying
 * either cost every row of such a host four attempts and three back-offs.
 */
export function cannotSucceed(error: unknown): boolean {
  const code = codeOf(error);
  return (
    code === 'UND_ERR_HEADERS_OVERFLOW' ||
    code === 'ENOTFOUND' ||
    (code !== undefined && CERTIFICATE_CODES.has(code))
  );
}

/**
 * The reason of every row whose host name the DNS says does not exist (ENOTFOUND): the
 * same words for all, so the summary groups them. Not retried: the answer is kept for a
 * minute (host-names.ts), and curl's --retry does not retry it either.
 */
export const NO_SUCH_HOST = 'no such host (DNS lookup found no address)';

/** The system's or undici's code for a failure, on the error or on its cause. */
function codeOf(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string } };
  return e.code ?? e.cause?.code;
}

/** A short reason a person can act on, the same words for the same cause (they get grouped). */
function describe(error: unknown): string {
  const code = codeOf(error);
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
      return NO_SUCH_HOST;
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      // The resolver could not answer (now): worth another try, unlike ENOTFOUND.
      return `DNS lookup failed (${code})`;
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return 'body shorter than Content-Length';
    case 'UND_ERR_HEADERS_OVERFLOW':
      return 'response headers too big';
    default:
      break;
  }
  // Node's own words for these point at its --use-system-ca, which crew users cannot give.
  if (code !== undefined && UNKNOWN_ISSUER.has(code)) {
    return `TLS error (${code}): no CA crew trusts signed it (--cacert adds one)`;
  }
  if (code?.startsWith('ERR_TLS') || code?.includes('CERT') || CERTIFICATE_CODES.has(code ?? '')) {
    return `TLS error (${code})`;
  }
  return (error as { message?: string }).message ?? String(error);
}

/**
 * Where a redirect's Location leads, or why crew does not go there: not http(s), a loop, too
 * many hops, too long, or a link-local address (169.254.169.254 serves cloud credentials).
 */
export function refuseRedirect(
  location: string,
  current: string,
  seen: ReadonlySet<string>,
): URL | string {
  if (Buffer.byteLength(location) > MAX_URL_BYTES) {
    return `redirect to a URL longer than ${MAX_URL_BYTES} bytes`;
  }
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    return 'redirect to an invalid URL';
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    return `redirect to a non-http URL (${capText(next.protocol, 20)})`;
  }
  if (isLinkLocal(next.hostname))
    return `redirect to a link-local address (${next.hostname}) refused`;
  if (seen.has(next.href)) return 'redirect loop';
  if (seen.size > MAX_REDIRECTS) return `more than ${MAX_REDIRECTS} redirects`;
  return next;
}

/** A link-local IP literal: 169.254.0.0/16, fe80::/10, or IPv4 169.254/16 mapped in IPv6. */
export function isLinkLocal(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (/^169\.254\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  if (/^fe[89ab][0-9a-f]:/.test(host)) return true;
  // ::ffff:169.254.x.y, as the URL parser writes it (::ffff:a9fe:xxxx).
  return /^::ffff:(a9fe:[0-9a-f]{1,4}|169\.254\.)/.test(host);
}
