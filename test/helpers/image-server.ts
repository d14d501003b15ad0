/**
 * A real HTTP server on 127.0.0.1 (port 0) that serves small images and injects the faults
 * a download tool must survive. Every request is counted per path.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// Smallest real files of each format (valid headers; enough for sniffing and hashing).
export const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);
export const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');
export const GIF = Buffer.from(
  '47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b',
  'hex',
);
export const WEBP = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.from([26, 0, 0, 0]),
  Buffer.from('WEBPVP8L'),
  Buffer.from([
    13, 0, 0, 0, 0x2f, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0,
  ]),
]);

export interface ImageServer {
  readonly url: string;
  /** Requests seen per path (query included). */
  readonly hits: Map<string, number>;
  /** User-Agent of the last request per path. */
  readonly agents: Map<string, string | undefined>;
  close(): Promise<void>;
}

type Route = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

const send = (res: ServerResponse, body: Buffer, type: string): void => {
  res.writeHead(200, { 'content-type': type, 'content-length': body.length });
  res.end(body);
};

const routes: Record<string, Route> = {
  '/png': (_, res) => send(res, PNG, 'image/png'),
  '/jpeg': (_, res) => send(res, JPEG, 'image/jpeg'),
  '/gif': (_, res) => send(res, GIF, 'image/gif'),
  // Mislabelled: the bytes say WebP, the header says octet-stream.
  '/webp': (_, res) => send(res, WEBP, 'application/octet-stream'),
  '/404': (_, res) => {
    res.writeHead(404).end('not found');
  },
  '/500-then-ok': (_, res, hit) => {
    if (hit === 1) res.writeHead(500).end('oops');
    else send(res, PNG, 'image/png');
  },
  '/always-500': (_, res) => {
    res.writeHead(503).end('busy');
  },
  '/429': (_, res, hit) => {
    if (hit === 1) res.writeHead(429, { 'retry-after': '1' }).end('slow down');
    else send(res, JPEG, 'image/jpeg');
  },
  '/reset-then-ok': (_, res, hit) => {
    if (hit > 1) return send(res, GIF, 'image/gif');
    res.writeHead(200, { 'content-type': 'image/gif', 'content-length': GIF.length });
    res.write(GIF.subarray(0, 10));
    setTimeout(() => res.socket?.destroy(), 20);
  },
  '/short': (_, res) => {
    // Promises more bytes than it sends, then ends the connection cleanly.
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length + 100 });
    res.write(PNG);
    setTimeout(() => res.socket?.end(), 20);
  },
  '/slow': (_, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
    res.write(PNG.subarray(0, 8));
    // Never finishes: the client's timeout must fire.
  },
  '/redirect-1': (_, res) => res.writeHead(302, { location: '/redirect-2' }).end(),
  '/redirect-2': (_, res) => res.writeHead(301, { location: '/redirect-3' }).end(),
  '/redirect-3': (_, res) => res.writeHead(307, { location: '/png' }).end(),
  '/loop-a': (_, res) => res.writeHead(302, { location: '/loop-b' }).end(),
  '/loop-b': (_, res) => res.writeHead(302, { location: '/loop-a' }).end(),
  '/to-ftp': (_, res) => res.writeHead(302, { location: 'ftp://127.0.0.1/x.png' }).end(),
  '/html': (_, res) =>
    send(res, Buffer.from('<!DOCTYPE html><html><body>hi</body></html>'), 'text/html'),
  // A whole PNG, after a second and a half: still on its way when a run is stopped.
  '/late': (_, res) => void setTimeout(() => send(res, PNG, 'image/png'), 1_500),
  '/big': (_, res) => send(res, Buffer.concat([PNG, Buffer.alloc(200_000)]), 'image/png'),
  // Opt-outs (X-Robots-Tag): for every robot, for crew by name, and for another robot only.
  '/noai': (_, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'x-robots-tag': 'noai' });
    res.end(PNG);
  },
  '/noimageai-crew': (_, res) => {
    res.writeHead(200, {
      'content-type': 'image/png',
      'x-robots-tag': ['max-image-preview: large', 'crew: noimageai'],
    });
    res.end(PNG);
  },
  '/noai-otherbot': (_, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'x-robots-tag': 'otherbot: noai, noindex' });
    res.end(Buffer.concat([PNG, Buffer.from('otherbot')]));
  },
  // Read only with --robots-txt: crew has a group of its own, every other robot is kept out.
  '/robots.txt': (_, res) => {
    const text = 'User-agent: *\nDisallow: /\n\nUser-agent: crew\nDisallow: /img/secret\n';
    res.writeHead(200, { 'content-type': 'text/plain' }).end(text);
  },
  '/browser-only': (req, res) => {
    if (!/Mozilla\/5\.0/.test(req.headers['user-agent'] ?? '')) res.writeHead(403).end('no bots');
    else send(res, PNG, 'image/png');
  },
};

/**
 * Starts the server; `/img/<anything>` serves a PNG whose bytes depend on <anything>, and
 * `/sized/<KiB>/<anything>` one of that size.
 */
export async function startImageServer(): Promise<ImageServer> {
  const hits = new Map<string, number>();
  const agents = new Map<string, string | undefined>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    agents.set(path, req.headers['user-agent']);
    const route = routes[path.split('?')[0]!];
    if (route) return route(req, res, hit);
    const sized = /^\/sized\/(\d+)\/(.*)$/.exec(path);
    if (sized) {
      // `/sized/<KiB>/<anything>`: a distinct PNG of exactly that many KiB.
      const tail = Buffer.from(sized[2]!);
      const pad = Buffer.alloc(Math.max(0, Number(sized[1]) * 1024 - PNG.length - tail.length));
      return send(res, Buffer.concat([PNG, pad, tail]), 'image/png');
    }
    const delayed = /^\/delay\/(\d+)\/(.*)$/.exec(path);
    if (delayed) {
      // `/delay/<ms>/<anything>`: a distinct PNG, after that many milliseconds.
      const body = Buffer.concat([PNG, Buffer.from(path)]);
      setTimeout(() => !res.destroyed && send(res, body, 'image/png'), Number(delayed[1]));
      return;
    }
    const trickle = /^\/trickle\/(\d+)\/(.*)$/.exec(path);
    if (trickle) {
      // `/trickle/<KiB>/<anything>`: a distinct PNG of that size, 64 KiB every 100 ms.
      const tail = Buffer.from(trickle[2]!);
      const pad = Buffer.alloc(Math.max(0, Number(trickle[1]) * 1024 - PNG.length - tail.length));
      const body = Buffer.concat([PNG, pad, tail]);
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
      let sent = 0;
      const next = (): void => {
        if (res.destroyed) return;
        res.write(body.subarray(sent, (sent += 65_536)));
        if (sent >= body.length) res.end();
        else setTimeout(next, 100);
      };
      return next();
    }
    if (path.startsWith('/img/')) {
      // A distinct, valid PNG per path: the name rides in a trailing chunk-free tail.
      return send(res, Buffer.concat([PNG, Buffer.from(path)]), 'image/png');
    }
    res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    agents,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
