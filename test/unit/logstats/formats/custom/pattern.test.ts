import { describe, expect, it } from 'vitest';
import { goaccessTokens } from '../../../../../src/logstats/formats/custom/goaccess.ts';
import { isNginxFormat, nginxTokens } from '../../../../../src/logstats/formats/custom/nginx.ts';
import { Matcher, type Token } from '../../../../../src/logstats/formats/custom/pattern.ts';

const COMBINED = '%h %^[%d:%t %^] "%r" %s %b "%R" "%u"';

const compile = (tokens: Token[] | string): Matcher => {
  if (typeof tokens === 'string') throw new Error(tokens);
  const matcher = Matcher.compile(tokens);
  if (typeof matcher === 'string') throw new Error(matcher);
  return matcher;
};

/** Each field's text, by how it was written, or why the line does not match. */
function fieldsOf(matcher: Matcher, line: string): Record<string, string> | string {
  const bytes = Buffer.from(line);
  const why = matcher.match(bytes, 0, bytes.length);
  if (why !== undefined) return why;
  const fields: Record<string, string> = {};
  matcher.steps.forEach((step, i) => {
    fields[step.field.written] ??= bytes
      .subarray(matcher.spans.starts[i], matcher.spans.ends[i])
      .toString();
  });
  return fields;
}

describe('a --log-format pattern', () => {
  const combined = compile(goaccessTokens(COMBINED));

  it('reads awkward combined lines: quotes, spaces, dashes, IPv6', () => {
    expect(
      fieldsOf(
        combined,
        '2001:db8::1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a b\\"c HTTP/1.1" 200 - "-" "Mozilla \\"q\\" (X11; \\"a b\\")"',
      ),
    ).toEqual({
      '%h': '2001:db8::1',
      '%^': '- frank ',
      '%d': '10/Oct/2000',
      '%t': '13:55:36',
      '%r': 'GET /a b\\"c HTTP/1.1',
      '%s': '200',
      '%b': '-',
      '%R': '-',
      '%u': 'Mozilla \\"q\\" (X11; \\"a b\\")',
    });
    // The last field may hold a raw quote: its end is found from the line's end.
    expect(fieldsOf(combined, '1.2.3.4 - - [d:t z] "r" 200 1 "ref" "a "raw" b"')).toMatchObject({
      '%u': 'a "raw" b',
    });
  });

  it.each([
    ['junk', 'no " " after %h'],
    ['1.2.3.4 - - d:t z] "r" 200 1 "-" "-"', 'no "[" after %^'],
    ['1.2.3.4 - - [d:t z] "r" 200 1', 'no " "" after %b'],
    ['1.2.3.4 - - [d:t z] "r" 200 1 "ref" "agent', 'no """ after %u'],
  ])('says why %j does not match', (line, why) => {
    expect(fieldsOf(combined, line)).toBe(why);
  });

  it('matches its text before the first field at the line start', () => {
    const matcher = compile(goaccessTokens('[%h] %s'));
    expect(fieldsOf(matcher, '[1.2.3.4] 200')).toEqual({ '%h': '1.2.3.4', '%s': '200' });
    expect(fieldsOf(matcher, ' [1.2.3.4] 200')).toBe('it does not start with "["');
  });

  it('skips spaces with %~', () => {
    const matcher = compile(goaccessTokens('%~%h %s'));
    expect(fieldsOf(matcher, '    1.2.3.4 200')).toMatchObject({ '%h': '1.2.3.4', '%s': '200' });
  });

  it('reads hostile lines of near-misses: each search goes on from where the last stopped', () => {
    // A backtracking matcher would retry every quote and space against the rest of the line.
    const quotes = `1.2.3.4 - - [d:t z] "${'\\" '.repeat(300_000)}`;
    expect(fieldsOf(combined, quotes)).toBe('no "" " after %r');
    const spaces = `1.2.3.4 ${' '.repeat(600_000)}`;
    expect(fieldsOf(combined, spaces)).toBe('no "[" after %^');
  });

  it.each([
    ['%h%^', '%h and %^ have nothing between them: crew cannot tell where one ends'],
    ['$remote_addr$status', '$remote_addr and $status have nothing between them'],
  ])('refuses %j', (format, why) => {
    const tokens = isNginxFormat(format) ? nginxTokens(format) : goaccessTokens(format);
    if (typeof tokens === 'string') throw new Error(tokens);
    expect(Matcher.compile(tokens)).toContain(why);
  });
});

describe("GoAccess's and nginx's notations", () => {
  it.each([
    ['%Q', '%Q is not a specifier crew reads (it takes'],
    ['%h %', 'it ends in a lone %'],
  ])('refuses the GoAccess format %j', (format, why) => {
    expect(goaccessTokens(format)).toContain(why);
  });

  it('reads %% as a percent sign', () => {
    expect(goaccessTokens('%h 100%%')).toEqual([
      { field: { kind: 'client', written: '%h' } },
      { literal: ' ' },
      { literal: '1' },
      { literal: '0' },
      { literal: '0' },
      { literal: '%' },
    ]);
  });

  it('reads nginx variables, braced too; unknown ones are read past', () => {
    const matcher = compile(
      nginxTokens('$remote_addr ${host}x [$time_local] "$request" $status $upstream_time'),
    );
    expect(
      fieldsOf(matcher, '::1 h.examplex [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 0.01'),
    ).toEqual({
      $remote_addr: '::1',
      $host: 'h.example',
      $time_local: '10/Oct/2000:13:55:36 -0700',
      $request: 'GET / HTTP/1.1',
      $status: '200',
      $upstream_time: '0.01',
    });
    expect(nginxTokens('$remote_addr $')).toBe(
      '"$" at character 14 names no variable (write $name or ${name})',
    );
  });

  it('takes the client from X-Forwarded-For when the format has no $remote_addr', () => {
    const tokens = nginxTokens('$http_x_forwarded_for $status');
    expect(tokens).toContainEqual({ field: { kind: 'client', written: '$http_x_forwarded_for' } });
    expect(nginxTokens('$remote_addr $http_x_forwarded_for')).toContainEqual({
      field: { kind: 'skip', written: '$http_x_forwarded_for' },
    });
  });

  it.each([
    ['$remote_addr', true],
    ['${remote_addr}', true],
    ['%h $5', false],
    ['%h', false],
    ['cost $ %h', false],
  ])('tells nginx notation in %j: %s', (format, nginx) => {
    expect(isNginxFormat(format)).toBe(nginx);
  });
});
