/**
 * Node's own floor, under any HTTP library: N keep-alive sockets, each reading into one
 * reused buffer (net's `onread`, so no allocation per read), sending GET after GET and
 * writing each body to its own file with synchronous calls, hashed with SHA-256 as crew
 * does. Not a client anyone should use (it knows only the Content-Length responses of the
 * bench's nginx): it shows how much of the gap to curl is the runtime and how much the HTTP
 * stack (undici) above it.
 *
 * usage: node raw-floor.ts LIST OUTDIR IN_FLIGHT, where LIST has one `name,url` per line,
 * all on one origin.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

const [listing, out, inFlight] = process.argv.slice(2) as [string, string, string];
const pairs = readFileSync(listing, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => line.split(',', 2) as [string, string]);
mkdirSync(out, { recursive: true });
const origin = new URL(pairs[0]![1]);
const HEAD_END = Buffer.from('\r\n\r\n');

/** One response's state as its bytes arrive; `take` returns true when the body is whole. */
class Incoming {
  #head = Buffer.alloc(0);
  #left = -1;
  #fd = -1;
  readonly #hash = createHash('sha256');
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }

  take(bytes: Buffer): boolean {
    let body = bytes;
    if (this.#left < 0) {
      this.#head = Buffer.concat([this.#head, bytes]);
      const end = this.#head.indexOf(HEAD_END);
      if (end < 0) return false;
      const head = this.#head.toString('latin1', 0, end);
      if (!head.startsWith('HTTP/1.1 200')) throw new Error(`${this.path}: ${head.split('\r')[0]}`);
      this.#left = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
      if (!Number.isFinite(this.#left)) throw new Error(`${this.path}: no Content-Length`);
      body = this.#head.subarray(end + HEAD_END.length);
      this.#fd = openSync(this.path, 'wx', 0o644);
    }
    if (body.length > this.#left) throw new Error(`${this.path}: more bytes than declared`);
    this.#hash.update(body);
    writeSync(this.#fd, body);
    this.#left -= body.length;
    if (this.#left > 0) return false;
    closeSync(this.#fd);
    this.#hash.digest();
    return true;
  }
}

let next = 0;
const lane = (): Promise<void> =>
  new Promise((resolve, reject) => {
    let current: Incoming | undefined;
    const send = (): void => {
      if (next >= pairs.length) {
        socket.end();
        return resolve();
      }
      const [name, url] = pairs[next++]!;
      current = new Incoming(join(out, `${name}.png`));
      socket.write(`GET ${new URL(url).pathname} HTTP/1.1\r\nHost: ${origin.host}\r\n\r\n`);
    };
    const buffer = Buffer.allocUnsafe(64 * 1024);
    const socket = connect({
      host: origin.hostname,
      port: Number(origin.port),
      onread: {
        buffer,
        callback: (length) => {
          try {
            if (current?.take(buffer.subarray(0, length))) send();
          } catch (error) {
            socket.destroy();
            reject(error);
          }
          return true;
        },
      },
    });
    socket.once('connect', send).once('error', reject);
  });

await Promise.all(Array.from({ length: Number(inFlight) }, lane));
