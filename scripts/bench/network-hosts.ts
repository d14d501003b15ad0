/**
 * The hosts of the network sets: one nginx serving the same files on 32 loopback addresses
 * (127.0.0.2-33, each one origin) over HTTP, HTTPS offering h2 and http/1.1 by ALPN, and
 * HTTPS offering http/1.1 only, with a certificate from a CA the bench makes (openssl);
 * and, for a round trip above 0, the latency proxy (latency-proxy.ts) in front of each.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, runNginx } from './nginx.ts';

/** How a host is reached: plain HTTP, HTTPS with h2 offered, HTTPS with http/1.1 only. */
export type Scheme = 'http' | 'https' | 'https-h1';
export const SCHEMES: readonly Scheme[] = ['https', 'http', 'https-h1'];

export const HOST_COUNT = 32;
/** The address of host `i` (0-based): 127.0.0.2 and up. */
export const address = (i: number): string => `127.0.0.${2 + i}`;

export interface NetworkHosts {
  /** The CA certificate (PEM) that signed every host's certificate. */
  readonly ca: string;
  /** The origin of host `i` over `scheme`: nginx itself at 0 ms, else the proxy. */
  origin(i: number, scheme: Scheme, rttMs: number): string;
  /** Puts `rttMs` between the clients and the hosts (none at 0) until the latency stops. */
  latency(rttMs: number): Promise<Latency>;
  stop(): Promise<void>;
}

export interface Latency {
  /** CPU the proxy used so far, ms (user + system). */
  readonly cpuMs: () => number;
  readonly stop: () => Promise<void>;
}

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The network (nginx and the proxy) runs ahead of other work when the bench may say so
 * (root): on a machine shared with builds, a starved proxy would add its own delays, and
 * the tools measured are then slowed alike, by the same load.
 */
const AHEAD = process.getuid?.() === 0 ? ['nice', '-n', '-10'] : [];

/** A CA, and a certificate it signed for every host's address (ECDSA P-256, as CDNs serve). */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    ...['-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30'],
    ...['-subj', '/CN=crew bench CA'],
    ...['-addext', 'basicConstraints=critical,CA:TRUE'],
    ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  );
  openssl('req', ...ec, '-keyout', 'host.key', '-out', 'host.csr', '-subj', '/CN=crew bench');
  const names = Array.from({ length: HOST_COUNT }, (_, i) => `IP:${address(i)}`).join(',');
  execFileSync('sh', ['-c', 'cat > host.ext'], {
    cwd: dir,
    input: `subjectAltName=${names}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  });
  openssl(
    'x509',
    ...['-req', '-in', 'host.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'],
    ...['-out', 'host.pem', '-days', '30', '-extfile', 'host.ext'],
  );
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'host.pem'), key: join(dir, 'host.key') };
}

/** Starts nginx on every host for every scheme, serving `root`. */
export async function startHosts(root: string, scratch: string): Promise<NetworkHosts> {
  const dir = join(scratch, 'network-tls');
  await mkdir(dir, { recursive: true });
  const tls = makeCertificates(dir);
  // Ports where nginx listens (used as they are at 0 ms) and where the proxy listens.
  const direct = new Map<Scheme, number>();
  const proxied = new Map<Scheme, number>();
  for (const scheme of SCHEMES) {
    direct.set(scheme, await freePort(address(0)));
    proxied.set(scheme, await freePort(address(0)));
  }
  const listens = Array.from({ length: HOST_COUNT }, (_, i) =>
    [
      `listen ${address(i)}:${direct.get('http')};`,
      `listen ${address(i)}:${direct.get('https')} ssl http2;`,
      `listen ${address(i)}:${direct.get('https-h1')} ssl;`,
    ].join(' '),
  ).join('\n    ');
  const stopNginx = await runNginx(
    join(scratch, 'nginx-network'),
    `server {
    ${listens}
    root ${root};
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:crew:10m;
  }`,
    SCHEMES.map((scheme) => ({ host: address(HOST_COUNT - 1), port: direct.get(scheme)! })),
    AHEAD,
  );
  const protocol = (scheme: Scheme): string => (scheme === 'http' ? 'http' : 'https');
  return {
    ca: tls.ca,
    origin: (i, scheme, rttMs) =>
      `${protocol(scheme)}://${address(i)}:${(rttMs > 0 ? proxied : direct).get(scheme)}`,
    latency: (rttMs) => startProxy(rttMs, direct, proxied),
    stop: stopNginx,
  };
}

/** The latency proxy for `rttMs` in its own process, in front of every host and scheme. */
async function startProxy(
  rttMs: number,
  direct: ReadonlyMap<Scheme, number>,
  proxied: ReadonlyMap<Scheme, number>,
): Promise<Latency> {
  if (rttMs === 0) return { cpuMs: () => 0, stop: () => Promise.resolve() };
  const routes = Array.from({ length: HOST_COUNT }, (_, i) =>
    SCHEMES.map((s) => `${address(i)}:${proxied.get(s)}=${address(i)}:${direct.get(s)}`),
  ).flat();
  const argv = [...AHEAD, process.execPath, join(here, 'latency-proxy.ts'), String(rttMs)];
  const child = spawn(argv[0]!, [...argv.slice(1), ...routes], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [ready] = (await Promise.race([
    once(child.stdout, 'data'),
    once(child, 'exit').then(() => ['']),
  ])) as [Buffer | string];
  if (!String(ready).startsWith('ready')) throw new Error('the latency proxy did not start');
  return {
    cpuMs: () => processCpuMs(child.pid!),
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

/** User plus system CPU of a running process so far, ms (/proc, clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}
