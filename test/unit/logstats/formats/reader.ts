/** Reading one line with a format's reader, for the formats' unit tables. */
import { BLANK, formatIPv4, IPV6, MALFORMED } from '../../../../src/logstats/client-ip.ts';
import type { LineFields, LineReader, ReadRules } from '../../../../src/logstats/formats/format.ts';
import { formatIPv6 } from '../../../../src/logstats/ipv6.ts';
import { emptyRequest } from '../../../../src/logstats/request-fields.ts';

export const rules = (given: Partial<ReadRules> = {}): ReadRules => ({
  by: undefined,
  utc: false,
  ipField: undefined,
  timeField: undefined,
  ...given,
});

/** A fresh slot. */
export const slot = (): LineFields => ({
  ...emptyRequest(),
  ipv6: new Uint32Array(4),
  key: undefined,
  seconds: NaN,
  offsetMinutes: 0,
});

/** A reader's verdict as text: blank, malformed, or the address. */
export const kindText = (kind: number, out: LineFields): string =>
  kind === BLANK
    ? 'blank'
    : kind === MALFORMED
      ? 'malformed'
      : kind === IPV6
        ? formatIPv6(out.ipv6)
        : formatIPv4(kind);

/** Reads `line` (UTF-8) with `reader`: the client as text, and the slot. */
export function readLine(reader: LineReader, line: string): { client: string; out: LineFields } {
  const out = slot();
  const bytes = Buffer.from(line);
  return { client: kindText(reader.read(bytes, 0, bytes.length, out), out), out };
}

/** What panels see of a line: status, path, bytes, referrer, agent, hour. */
export const requestOf = (out: LineFields) => ({
  status: out.status,
  target: out.target,
  sent: out.sent,
  referrer: out.referrer,
  agent: out.agent,
  hour: out.hour,
});
