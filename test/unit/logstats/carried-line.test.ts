import { describe, expect, it } from 'vitest';
import { CarriedLine, MAX_KEPT_LINE } from '../../../src/logstats/carried-line.ts';
import { clientIp } from '../../helpers/client-rule.ts';

/** Feeds `line` to `holder` in pieces of `size` bytes and finishes it. */
function carry(holder: CarriedLine, line: string | Buffer, size: number) {
  const bytes = Buffer.from(line);
  for (let at = 0; at < bytes.length; at += size)
    holder.append(bytes, at, Math.min(at + size, bytes.length));
  const { kept, cut, client } = holder.finish();
  return {
    kept: Buffer.from(kept).toString(),
    cut,
    client: clientIp(Buffer.from(client).toString()),
  };
}

describe('CarriedLine', () => {
  it.each([1, 3, 64, 1 << 20])('keeps a line whole and its client (pieces of %d)', (size) => {
    const holder = new CarriedLine(true);
    const line = `{"remote_addr":"1.2.3.4","x":"${'y'.repeat(5000)}"}`;
    expect(carry(holder, line, size)).toEqual({ kept: line, cut: false, client: 'malformed' });
    // Emptied by finish: the next line starts afresh.
    expect(carry(holder, '5.6.7.8 - - [x]', size)).toEqual({
      kept: '5.6.7.8 - - [x]',
      cut: false,
      client: '5.6.7.8',
    });
  });

  it('keeps MAX_KEPT_LINE bytes of a longer line, and its client from all of it', () => {
    const holder = new CarriedLine(true);
    const exact = `9.9.9.9 - ${'z'.repeat(MAX_KEPT_LINE - 10)}`;
    expect(exact.length).toBe(MAX_KEPT_LINE);
    expect(carry(holder, exact, 1 << 16)).toMatchObject({ cut: false, client: '9.9.9.9' });
    const longer = carry(holder, `${exact}!`, 1 << 16);
    expect(longer).toMatchObject({ cut: true, client: '9.9.9.9' });
    expect(longer.kept).toBe(exact);
  });

  it('keeps only the client when asked to', () => {
    const holder = new CarriedLine(false);
    expect(carry(holder, '1.2.3.4 - - [x]', 2)).toEqual({
      kept: '',
      cut: false,
      client: '1.2.3.4',
    });
  });
});
