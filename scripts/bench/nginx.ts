/**
 * A real nginx for the download sets (Debian's nginx-light): on 127.0.0.1 for the fast-server
 * sets, on many loopback addresses for the network sets (network-hosts.ts). Runs in the
 * foreground with its config, logs and temp dirs in the bench's scratch directory.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Nginx {
  readonly base: string;
  stop(): Promise<void>;
}

const NGINX = '/usr/sbin/nginx';

/** Whether nginx can be run; else how to get it. */
export function nginxMissing(): string | undefined {
  try {
    execFileSync(NGINX, ['-v'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'nginx is not installed (`apt-get update && apt-get install -y nginx-light`)';
  }
}

/** A free port on `host` (nginx cannot listen on port 0 and tell us). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer().listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

async function listening(host: string, port: number): Promise<boolean> {
  const socket = connect(port, host);
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

/** Serves `root` on a fresh 127.0.0.1 port, as the issue measured it (2 workers, sendfile). */
export async function startNginx(root: string, scratch: string): Promise<Nginx> {
  const port = await freePort();
  const stop = await runNginx(
    join(scratch, 'nginx'),
    `server { listen 127.0.0.1:${port}; root ${root}; }`,
    [{ host: '127.0.0.1', port }],
  );
  return { base: `http://127.0.0.1:${port}`, stop };
}

/**
 * Runs nginx in the foreground with `servers` (server blocks) under the `http` block that
 * every bench shares (2 workers, sendfile, no access log), its files under `prefix`; waits
 * until each of `probes` accepts connections.
 */
export async function runNginx(
  prefix: string,
  servers: string,
  probes: readonly { readonly host: string; readonly port: number }[],
  /** Prepended to nginx's command line, e.g. `nice -n -10`. */
  wrapper: readonly string[] = [],
): Promise<() => Promise<void>> {
  await mkdir(join(prefix, 'logs'), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  await writeFile(
    conf,
    `worker_processes 2;
worker_rlimit_nofile 16384;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types { image/png png; }
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  ${servers}
}
`,
  );
  const argv = [...wrapper, NGINX, '-p', prefix, '-c', conf, '-g', 'daemon off;'];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  for (const probe of probes) {
    for (let i = 0; i < 100 && !(await listening(probe.host, probe.port)); i++) await sleep(50);
  }
  return async () => {
    child.kill('SIGQUIT');
    if (child.exitCode === null) await once(child, 'exit');
  };
}
