/**
 * nginx's log_format variables (`$remote_addr - $remote_user [$time_local] "$request" ...`)
 * as pattern tokens (pattern.ts). Any variable is accepted (nginx has hundreds); those that
 * say nothing crew counts are read past. Pure.
 */
import type { FieldKind, Token } from './pattern.ts';

/** The variables crew reads, and what each is to crew. */
export const NGINX_VARIABLES: Readonly<Record<string, FieldKind>> = {
  remote_addr: 'client',
  time_local: 'clf-time',
  time_iso8601: 'iso8601',
  msec: 'epoch',
  request: 'request',
  request_uri: 'target',
  uri: 'path',
  document_uri: 'path',
  status: 'status',
  body_bytes_sent: 'bytes',
  bytes_sent: 'bytes',
  http_referer: 'referrer',
  http_user_agent: 'agent',
};

/** Clients when the format has no $remote_addr: the first of these it has. */
const OTHER_CLIENTS = ['realip_remote_addr', 'http_x_forwarded_for', 'http_x_real_ip'];

/** The tokens of an nginx log_format; a string says why it cannot be read. */
export function nginxTokens(format: string): Token[] | string {
  const tokens: Token[] = [];
  const variable = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/y;
  const names: string[] = [];
  for (let i = 0; i < format.length;) {
    if (format[i] !== '$') {
      tokens.push({ literal: format[i]! });
      i++;
      continue;
    }
    variable.lastIndex = i;
    const m = variable.exec(format);
    if (!m) return `"$" at character ${i + 1} names no variable (write $name or \${name})`;
    const name = (m[1] ?? m[2])!;
    names.push(name);
    tokens.push({ field: { kind: NGINX_VARIABLES[name] ?? 'skip', written: `$${name}` } });
    i = variable.lastIndex;
  }
  if (!names.includes('remote_addr')) {
    const client = OTHER_CLIENTS.find((name) => names.includes(name));
    if (client !== undefined) {
      const at = tokens.findIndex((t) => 'field' in t && t.field.written === `$${client}`);
      tokens[at] = { field: { kind: 'client', written: `$${client}` } };
    }
  }
  return tokens;
}

/** Whether a --log-format is in nginx's notation: it names a `$variable`. */
export const isNginxFormat = (format: string): boolean => /\$(?:\{|[A-Za-z_])/.test(format);
