/**
 * A TCP proxy that makes 127.0.0.x look far away, for the network sets (network.ts). This
 * kernel has no netem (`tc qdisc ... netem delay` is what one would use), so the bench
 * models the wire itself, per connection and per direction:
 *
 * - every byte reaches the other side RTT/2 after it was put on the wire;
 * - a connection's first bytes from the client leave one RTT after it was accepted (the
 *   TCP handshake: a TLS handshake then costs its own round trips on top, as on a network);
 * - bytes on the wire and not yet acknowledged are at most a congestion window: 10 segments
 *   at first (Linux's initial window), grown by every byte acknowledged (slow start, so it
 *   doubles each round trip), acknowledged one RTT after they were sent, up to MAX_WINDOW;
 *   after an idle RTO it falls back to 10 segments (Linux's tcp_slow_start_after_idle);
 * - a receiver that does not read (a full socket buffer) holds back the acknowledgements,
 *   so the sender stalls as TCP's receive window would make it.
 *
 * No loss, no bandwidth cap shared between connections: a connection's speed is set by its
 * round trips and its window alone, which is what HTTP/2 flow control and the number of
 * connections act on.
 *
 * usage: node latency-proxy.ts RTT_MS LISTEN_HOST:PORT=TARGET_HOST:PORT ...
 * Prints "ready" on stdout once every address listens; ends on SIGTERM.
 */
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';

/** Linux's initial congestion window: 10 segments of 1460 bytes. */
const INITIAL_WINDOW = 10 * 1460;
/** The most a connection has unacknowledged: Linux's default largest send buffer (tcp_wmem). */
const MAX_WINDOW = 4 * 1024 * 1024;
/** Bytes the proxy holds from a sender before it stops reading it (its socket buffer). */
const SEND_BUFFER = 1024 * 1024;
/** Bytes waiting in the receiver's socket before acknowledgements stop (its receive window). */
const RECEIVE_WINDOW = 4 * 1024 * 1024;

interface OnWire {
  readonly due: number;
  /** Undefined: the sender's end of stream. */
  readonly chunk: Buffer | undefined;
}

/** One direction of one connection: a delay line with a congestion window. */
class Line {
  readonly #from: Socket;
  readonly #to: Socket;
  readonly #rtt: number;
  readonly #rto: number;
  #openAt: number;
  #window = INITIAL_WINDOW;
  #unacked = 0;
  #lastSent = 0;
  /** Read from the sender, not yet on the wire (waiting for the window). */
  readonly #waiting: (Buffer | undefined)[] = [];
  #waitingBytes = 0;
  readonly #wire: OnWire[] = [];
  readonly #acks: { due: number; bytes: number }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerDue = Infinity;
  #ended = false;
  #delivered = false;

  constructor(from: Socket, to: Socket, rtt: number, openAt: number) {
    this.#from = from;
    this.#to = to;
    this.#rtt = rtt;
    // Linux's RTO: 200 ms above the round trip at least.
    this.#rto = 200 + rtt;
    this.#openAt = openAt;
    from.on('data', (chunk: Buffer) => this.#read(chunk));
    // A sender gone without a FIN (reset) ends its direction all the same, after its bytes.
    from.on('end', () => this.#read(undefined));
    from.on('close', () => this.#read(undefined));
    to.on('drain', () => this.#pump());
    // A receiver gone for good: nothing more can reach it, so its sender is cut off too.
    to.on('close', () => {
      this.#stop();
      if (!this.#delivered) from.destroy();
    });
  }

  #read(chunk: Buffer | undefined): void {
    if (this.#ended) return;
    if (chunk === undefined) this.#ended = true;
    this.#waiting.push(chunk);
    this.#waitingBytes += chunk?.length ?? 0;
    if (this.#waitingBytes > SEND_BUFFER) this.#from.pause();
    this.#pump();
  }

  /** Delivers what arrived, takes the acknowledgements due, sends what the window allows. */
  #pump(): void {
    const now = performance.now();
    while (this.#wire.length > 0 && this.#wire[0]!.due <= now) {
      const { chunk } = this.#wire.shift()!;
      if (chunk === undefined) {
        this.#delivered = true;
        this.#to.end();
      } else if (!this.#to.destroyed) this.#to.write(chunk);
    }
    // A receiver that does not read acknowledges nothing: its window is full.
    while (
      this.#acks.length > 0 &&
      this.#acks[0]!.due <= now &&
      this.#to.writableLength < RECEIVE_WINDOW
    ) {
      const { bytes } = this.#acks.shift()!;
      this.#unacked -= bytes;
      this.#window = Math.min(MAX_WINDOW, this.#window + bytes);
    }
    this.#send(now);
    this.#schedule(now);
  }

  #send(now: number): void {
    if (now < this.#openAt) return;
    if (this.#unacked === 0 && this.#lastSent > 0 && now - this.#lastSent > this.#rto) {
      this.#window = Math.min(this.#window, INITIAL_WINDOW);
    }
    while (this.#waiting.length > 0 && this.#unacked < this.#window) {
      let chunk = this.#waiting[0];
      if (chunk === undefined) {
        this.#waiting.shift();
        this.#wire.push({ due: now + this.#rtt / 2, chunk });
        continue;
      }
      const room = this.#window - this.#unacked;
      if (chunk.length > room) {
        this.#waiting[0] = chunk.subarray(room);
        chunk = chunk.subarray(0, room);
      } else this.#waiting.shift();
      this.#waitingBytes -= chunk.length;
      this.#unacked += chunk.length;
      this.#lastSent = now;
      this.#wire.push({ due: now + this.#rtt / 2, chunk });
      this.#acks.push({ due: now + this.#rtt, bytes: chunk.length });
    }
    if (this.#waitingBytes <= SEND_BUFFER / 2 && this.#from.isPaused()) this.#from.resume();
  }

  #schedule(now: number): void {
    let due = Math.min(this.#wire[0]?.due ?? Infinity, this.#acks[0]?.due ?? Infinity);
    if (this.#waiting.length > 0 && now < this.#openAt) due = Math.min(due, this.#openAt);
    // Acknowledgements held by a full receiver wait for its 'drain'.
    if (this.#acks[0] !== undefined && this.#acks[0].due <= now)
      due = this.#wire[0]?.due ?? Infinity;
    if (due === Infinity || due >= this.#timerDue) return;
    clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerDue = Infinity;
        this.#pump();
      },
      Math.max(0, due - now),
    );
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#openAt = Infinity;
    this.#wire.length = 0;
    this.#acks.length = 0;
  }
}

function relay(client: Socket, target: { host: string; port: number }, rtt: number): void {
  const accepted = performance.now();
  // Half-open: each direction ends when its own end of stream has crossed the wire.
  const server = connect({ ...target, allowHalfOpen: true, noDelay: true });
  client.setNoDelay(true);
  new Line(client, server, rtt, accepted + rtt);
  new Line(server, client, rtt, accepted);
  const fail = (): void => {
    client.destroy();
    server.destroy();
  };
  client.on('error', fail);
  server.on('error', fail);
}

const [rttArg, ...routes] = process.argv.slice(2);
const rtt = Number(rttArg);
if (!(rtt >= 0) || routes.length === 0) {
  process.stderr.write('usage: latency-proxy.ts RTT_MS HOST:PORT=HOST:PORT ...\n');
  process.exit(2);
}
const servers = routes.map((route) => {
  const [from, to] = route.split('=') as [string, string];
  const [host, port] = from.split(':') as [string, string];
  const [targetHost, targetPort] = to.split(':') as [string, string];
  const target = { host: targetHost, port: Number(targetPort) };
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (client) =>
    relay(client, target, rtt),
  );
  server.listen({ host, port: Number(port), backlog: 1024 });
  return server;
});
await Promise.all(servers.map((s) => once(s, 'listening')));
process.stdout.write('ready\n');
process.on('SIGTERM', () => process.exit(0));
