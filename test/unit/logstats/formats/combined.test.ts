import { describe, expect, it } from 'vitest';
import { formatIPv4 } from '../../../../src/logstats/client-ip.ts';
import { combined } from '../../../../src/logstats/formats/combined.ts';
import type { ReadRules } from '../../../../src/logstats/formats/format.ts';
import { UNKNOWN } from '../../../../src/logstats/timestamp.ts';
import { kindText, slot } from './reader.ts';
import { clientIp } from '../../../helpers/client-rule.ts';

const rules = (given: Partial<ReadRules> = {}): ReadRules => ({
  by: undefined,
  utc: false,
  ipField: undefined,
  timeField: undefined,
  ...given,
});

const text = kindText;

const line = (ip: string, time: string) => `${ip} - - [${time}] "GET / HTTP/1.1" 200 12`;

describe('the common/combined format', () => {
  it.each([
    line('1.2.3.4', '10/Oct/2000:13:55:36 -0700'),
    line('2001:DB8::1', '10/Oct/2000:13:55:36 -0700'),
    '203.0.113.9, 10.0.0.1 - frank [x] "GET / HTTP/1.1" 200 1',
    '{"remote_addr":"1.2.3.4"}',
    'junk',
    '   ',
  ])('reads the client of %j by the client rule', (given) => {
    const out = slot();
    const bytes = Buffer.from(given);
    expect(text(combined.reader(rules()).read(bytes, 0, bytes.length, out), out)).toBe(
      clientIp(given),
    );
  });

  it('keys a line by its first [...] with --by, and reads no time without', () => {
    const out = slot();
    const read = (by: ReadRules['by'], utc: boolean, given: string): string | undefined => {
      out.key = undefined;
      combined.reader(rules({ by, utc })).read(Buffer.from(given), 0, given.length, out);
      return out.key;
    };
    const late = line('1.2.3.4', '10/Oct/2000:20:55:36 -0700');
    expect(read('day', false, late)).toBe('2000-10-10');
    expect(read('hour', true, late)).toBe('2000-10-11 03:00');
    expect(read('day', false, '1.2.3.4 - - no time')).toBe(UNKNOWN);
    expect(read(undefined, false, late)).toBeUndefined();
  });

  it('reads a line that came in pieces: the client from all of it, the time from its start', () => {
    const out = slot();
    const kept = Buffer.from(line('1.2.3.4', '10/Oct/2000:13:55:36 -0700'));
    // The client stand-in of a line whose client is 5.6.7.8 (see LongLine).
    const client = Buffer.from('5.6.7.8 x');
    const kind = combined
      .reader(rules({ by: 'day' }))
      .readCarried({ kept, cut: true, client }, out);
    expect([text(kind, out), out.key]).toEqual(['5.6.7.8', '2000-10-10']);
  });

  it('has a fast path that takes the common line', () => {
    const scanner = combined.fastPath!();
    const bytes = Buffer.from(`${line('1.2.3.4', '10/Oct/2000:13:55:36 -0700')}\n`);
    scanner.memory.set(bytes, scanner.inputStart);
    const end = scanner.inputStart + bytes.length;
    expect(scanner.scan(scanner.inputStart, end)).toBe(end);
    expect([scanner.lines, scanner.count, formatIPv4(scanner.addresses[0]!)]).toEqual([
      1,
      1,
      '1.2.3.4',
    ]);
    scanner.release();
  });
});
