/**
 * A real nginx on 127.0.0.1 for the fast-server download sets (Debian's nginx-light). Runs
 * in the foreground with its config, logs and temp dirs in the bench's scratch directory.
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

/** A free port on 127.0.0.1 (nginx cannot listen on port 0 and tell us). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

async function listening(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
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
  const prefix = join(scratch, 'nginx');
  await mkdir(join(prefix, 'logs'), { recursive: true });
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  await writeFile(
    conf,
    `worker_processes 2;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log;
events { worker_connections 1024; }
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
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-p', prefix, '-c', conf, '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100 && !(await listening(port)); i++) await sleep(50);
  return {
    base: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGQUIT');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}
