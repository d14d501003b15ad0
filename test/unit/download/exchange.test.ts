import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange } from '../../../src/download/exchange.ts';

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

describe('exchange', () => {
  it('hands over a big body whole and in order, waiting for a slow taker', async () => {
    const agent = new Agent();
    try {
      const response = await exchange(agent, `${base}/big`, {}, never);
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
    } finally {
      await agent.close();
    }
  });

  it('fails the body with what the taker threw, and closes its connection', async () => {
    const agent = new Agent();
    try {
      const before = sockets.opened;
      const response = await exchange(agent, `${base}/big`, {}, never);
      const tooBig = new Error('too big');
      await expect(
        response.read(() => {
          throw tooBig;
        }),
      ).rejects.toBe(tooBig);
      // The next request cannot reuse that socket: a new one is opened.
      const again = await exchange(agent, `${base}/small`, {}, never);
      await again.read(() => undefined);
      expect(sockets.opened - before).toBe(2);
    } finally {
      await agent.close();
    }
  });

  it('drains an error page and keeps the connection for the next request', async () => {
    const agent = new Agent();
    try {
      const before = sockets.opened;
      const page = await exchange(agent, `${base}/page`, {}, never);
      expect(page.status).toBe(404);
      await page.drain();
      // undici frees the socket a tick after the body ends (fetch.ts waits for it too).
      await new Promise((resolve) => setImmediate(resolve));
      const next = await exchange(agent, `${base}/small`, {}, never);
      const got: Buffer[] = [];
      await next.read((chunk) => void got.push(chunk));
      expect(Buffer.concat(got).toString()).toBe('abc');
      expect(sockets.opened - before).toBe(1);
    } finally {
      await agent.close();
    }
  });

  it('drains a long body only in part: it is cut off, not read to its end', async () => {
    const agent = new Agent();
    try {
      const before = sockets.opened;
      const response = await exchange(agent, `${base}/big`, {}, never);
      await response.drain();
      await new Promise((resolve) => setImmediate(resolve));
      // Cut off: its socket is gone, and the next request opens another.
      const next = await exchange(agent, `${base}/small`, {}, never);
      await next.read(() => undefined);
      expect(sockets.opened - before).toBe(2);
    } finally {
      await agent.close();
    }
  });

  it.each([
    ['waiting for the headers', '/hang'],
    ['in the middle of the body', '/trickle'],
  ])('ends at once when the signal aborts %s', async (_, path) => {
    const agent = new Agent();
    try {
      const expiry = new AbortController();
      const reason = new Error('--max-time');
      setTimeout(() => expiry.abort(reason), 50);
      const started = performance.now();
      const run = async (): Promise<void> => {
        const response = await exchange(agent, `${base}${path}`, {}, expiry.signal);
        await response.read(() => undefined);
      };
      await expect(run()).rejects.toBe(reason);
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      await agent.destroy();
    }
  });

  it('ends at once when the signal aborts while the request waits for a connection', async () => {
    // One connection, held by a request that never gets its answer: the next one queues.
    const agent = new Agent({ connections: 1 });
    try {
      const holder = exchange(agent, `${base}/hang`, {}, never);
      holder.catch(() => undefined);
      await sleep(20);
      const expiry = new AbortController();
      const reason = new Error('--max-time');
      setTimeout(() => expiry.abort(reason), 50);
      await expect(exchange(agent, `${base}/small`, {}, expiry.signal)).rejects.toBe(reason);
    } finally {
      await agent.destroy();
    }
  });

  it('refuses at once with a signal that already aborted', async () => {
    const agent = new Agent();
    try {
      const expiry = new AbortController();
      expiry.abort(new Error('already'));
      await expect(exchange(agent, `${base}/small`, {}, expiry.signal)).rejects.toThrow('already');
    } finally {
      await agent.close();
    }
  });

  it('rejects with the connection error of a closed port', async () => {
    const agent = new Agent();
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    try {
      await expect(exchange(agent, `http://127.0.0.1:${port}/`, {}, never)).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });
    } finally {
      await agent.close();
    }
  });
});
