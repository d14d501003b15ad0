import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, type Response } from '../../../src/download/exchange.ts';

/** Bytes 0, 1, 2, ... 255, 0, 1, ...: any chunk out of order or lost shows. */
const counting = (length: number): Buffer => {
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = i & 0xff;
  return body;
};
const BIG = counting(3 * 1024 * 1024 + 17);

let server: Server;
let base: string;
/** Responses of /hang that never get their headers (ended when the suite ends). */
const hanging: ServerResponse[] = [];
const sockets = { opened: 0 };

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(200, { 'content-length': BIG.length }).end(BIG);
    } else if (req.url === '/trickle') {
      res.writeHead(200, { 'content-length': 1000 });
      res.write(Buffer.alloc(10));
      hanging.push(res);
    } else if (req.url === '/hang') {
      hanging.push(res);
    } else if (req.url === '/hints') {
      // 103 Early Hints goes out at once, on its own; the response comes later.
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      setTimeout(() => res.writeHead(200, { 'content-length': 5 }).end('final'), 50);
    } else if (req.url === '/page') {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<p>not here</p>');
    } else {
      res.writeHead(200, { 'content-length': 3 }).end('abc');
    }
  });
  server.on('connection', () => sockets.opened++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

const never = new AbortController().signal;

/** Runs `fn` with a fresh agent, destroyed after (with whatever it still holds). */
async function withAgent(fn: (agent: Agent) => Promise<void>, agent = new Agent()): Promise<void> {
  try {
    await fn(agent);
  } finally {
    await agent.destroy();
  }
}

const get = (agent: Agent, path: string, signal = never): Promise<Response> =>
  exchange(agent, `${base}${path}`, {}, signal);

/** The whole body of `path`, in a fresh exchange on `agent`. */
async function bodyOf(agent: Agent, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await (await get(agent, path)).read((chunk) => void chunks.push(chunk));
  return Buffer.concat(chunks);
}

/** The sockets the server saw opened while `fn` ran. */
async function socketsOpenedBy(fn: () => Promise<void>): Promise<number> {
  const before = sockets.opened;
  await fn();
  return sockets.opened - before;
}

/** A signal that aborts with `reason` 50 ms from now. */
function expiring(): { signal: AbortSignal; reason: Error } {
  const expiry = new AbortController();
  const reason = new Error('--max-time');
  setTimeout(() => expiry.abort(reason), 50);
  return { signal: expiry.signal, reason };
}

// undici frees a socket a tick after its body ends (fetch.ts waits for it too).
const socketFreed = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve));

describe('exchange', () => {
  it('hands over a big body whole and in order, waiting for a slow taker', () =>
    withAgent(async (agent) => {
      const response = await get(agent, '/big');
      expect(response.status).toBe(200);
      expect(response.headers['content-length']).toBe(String(BIG.length));
      const chunks: Buffer[] = [];
      let waits = 0;
      await response.read((chunk) => {
        chunks.push(chunk);
        // Every fourth chunk makes the body wait, as a flush to a slow disk does.
        if (chunks.length % 4 !== 0) return undefined;
        waits++;
        return sleep(5);
      });
      expect(waits).toBeGreaterThan(0);
      expect(Buffer.concat(chunks).equals(BIG)).toBe(true);
    }));

  it('fails the body with what the taker threw, and closes its connection', () =>
    withAgent(async (agent) => {
      const opened = await socketsOpenedBy(async () => {
        const response = await get(agent, '/big');
        const tooBig = new Error('too big');
        await expect(
          response.read(() => {
            throw tooBig;
          }),
        ).rejects.toBe(tooBig);
        // The next request cannot reuse that socket: a new one is opened.
        await bodyOf(agent, '/small');
      });
      expect(opened).toBe(2);
    }));

  it('passes over an interim 103 response to the final one', () =>
    withAgent(async (agent) => {
      const response = await get(agent, '/hints');
      expect(response.status).toBe(200);
      expect(response.headers['link']).toBeUndefined();
      const chunks: Buffer[] = [];
      await response.read((chunk) => void chunks.push(chunk));
      expect(Buffer.concat(chunks).toString()).toBe('final');
    }));

  it('drains an error page and keeps the connection for the next request', () =>
    withAgent(async (agent) => {
      const opened = await socketsOpenedBy(async () => {
        const page = await get(agent, '/page');
        expect(page.status).toBe(404);
        await page.drain();
        await socketFreed();
        expect((await bodyOf(agent, '/small')).toString()).toBe('abc');
      });
      expect(opened).toBe(1);
    }));

  it('drains a long body only in part: it is cut off, not read to its end', () =>
    withAgent(async (agent) => {
      const opened = await socketsOpenedBy(async () => {
        await (await get(agent, '/big')).drain();
        await socketFreed();
        // Cut off: its socket is gone, and the next request opens another.
        await bodyOf(agent, '/small');
      });
      expect(opened).toBe(2);
    }));

  it('drops a body unread: its connection is closed, and the next request gets a new one', () =>
    // One connection: a dropped body that held on to it would stall the next request.
    withAgent(
      async (agent) => {
        const opened = await socketsOpenedBy(async () => {
          (await get(agent, '/big')).discard();
          expect((await bodyOf(agent, '/small')).toString()).toBe('abc');
        });
        expect(opened).toBe(2);
      },
      new Agent({ connections: 1 }),
    ));

  it.each([
    ['waiting for the headers', '/hang'],
    ['in the middle of the body', '/trickle'],
  ])('ends at once when the signal aborts %s', (_, path) =>
    withAgent(async (agent) => {
      const { signal, reason } = expiring();
      const started = performance.now();
      const run = async (): Promise<void> => {
        await (await get(agent, path, signal)).read(() => undefined);
      };
      await expect(run()).rejects.toBe(reason);
      expect(performance.now() - started).toBeLessThan(5000);
    }),
  );

  it('ends at once when the signal aborts while the request waits for a connection', () =>
    // One connection, held by a request that never gets its answer: the next one queues.
    withAgent(
      async (agent) => {
        get(agent, '/hang').catch(() => undefined);
        await sleep(20);
        const { signal, reason } = expiring();
        await expect(get(agent, '/small', signal)).rejects.toBe(reason);
      },
      new Agent({ connections: 1 }),
    ));

  it('refuses at once with a signal that already aborted', () =>
    withAgent(async (agent) => {
      const expiry = new AbortController();
      expiry.abort(new Error('already'));
      await expect(get(agent, '/small', expiry.signal)).rejects.toThrow('already');
    }));

  it('rejects with the connection error of a closed port', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    await withAgent(async (agent) => {
      await expect(exchange(agent, `http://127.0.0.1:${port}/`, {}, never)).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });
    });
  });
});
