/**
 * A raw HTTP/1.1 server on 127.0.0.1 (node:net, port 0), for answers node:http will not
 * give: an interim 100 nobody asked for, a header sent twice, headers too big to read.
 * Every request head is read off the connection and the route's bytes are written as they
 * are; the connection stays open for the next request, as keep-alive would.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';

/** The bytes to answer a request for `path` with (written at once, in one write). */
export type RawRoute = (path: string) => Buffer;

export interface RawServer {
  readonly url: string;
  /** The paths requested, in order. */
  readonly requests: string[];
  /** Connections opened so far. */
  readonly connections: () => number;
  close(): Promise<void>;
}

/** A response's bytes: a status line, the header lines as given (repeats kept), the body. */
export function rawResponse(
  status: string,
  headers: readonly (readonly [string, string | number])[],
  body: Buffer | string = '',
): Buffer {
  const head = [`HTTP/1.1 ${status}`, ...headers.map(([name, value]) => `${name}: ${value}`)];
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.from(body)]);
}

export async function startRawServer(route: RawRoute): Promise<RawServer> {
  const requests: string[] = [];
  const open = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined); // a client that gives up resets the connection
    let pending = '';
    socket.on('data', (data: Buffer) => {
      pending += data.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const path = pending.slice(0, end).split(' ')[1] ?? '/';
        pending = pending.slice(end + 4); // a GET has no body
        requests.push(path);
        socket.write(route(path));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    close: async () => {
      for (const socket of open) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
