import { describe, expect, it } from 'vitest';
import {
  addressOfClient,
  alb,
  looksLikeAlb,
  pathOfUrl,
} from '../../../../src/logstats/formats/alb.ts';
import { readLine, requestOf, rules } from './reader.ts';

/** An ALB line as AWS documents it, with the fields a test changes. */
function line(
  given: {
    client?: string;
    time?: string;
    request?: string;
    agent?: string;
    status?: string;
    sent?: string;
  } = {},
): string {
  const {
    client = '192.168.131.39:2817',
    time = '2018-07-02T22:23:00.186641Z',
    request = 'GET http://www.example.com:80/ HTTP/1.1',
    agent = 'curl/7.46.0',
    status = '200',
    sent = '366',
  } = given;
  return (
    `http ${time} app/my-loadbalancer/50dc6c495c0c9188 ${client} 10.0.0.1:80 0.000 0.001 0.000 ` +
    `${status} 200 34 ${sent} "${request}" "${agent}" - - ` +
    'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 ' +
    '"Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1'
  );
}

describe('the AWS ALB format', () => {
  it.each([
    [line(), '192.168.131.39'],
    [line({ client: '[2001:DB8::1]:443' }), '2001:db8::1'],
    [line({ client: '2001:db8::1:443' }), '2001:db8::1'],
    [line({ client: '::ffff:10.1.2.3:5' }), '10.1.2.3'],
    [line({ client: '192.168.131.39' }), 'malformed'], // no port
    [line({ client: '-' }), 'malformed'],
    [line({ client: '01.2.3.4:80' }), 'malformed'],
    [`${line()}\r`, '192.168.131.39'],
    ['http 2018-07-02T22:23:00Z app/x', 'malformed'],
    ['  ', 'blank'],
  ])('reads the client of %j from field 4', (given, client) => {
    expect(readLine(alb.reader(rules()), given).client).toBe(client);
  });

  it('reads status, path, bytes and agent, with quotes and spaces inside', () => {
    const request = 'GET https://www.example.com:443/a b\\"c?x=1 HTTP/1.1';
    const agent = 'Mozilla/5.0 (X11; \\"Linux\\") like "Gecko"';
    const { out } = readLine(
      alb.reader(rules({ panels: ['paths', 'hours'], by: 'hour' })),
      line({ request, agent, status: '502', sent: '-' }),
    );
    expect(requestOf(out)).toEqual({
      status: 502,
      target: '/a b"c',
      sent: 0,
      referrer: undefined,
      agent: 'Mozilla/5.0 (X11; "Linux") like "Gecko"',
      hour: 22,
    });
    expect(out.key).toBe('2018-07-02 22:00');
  });

  it('reads the time as UTC for --since and --by, and a bad one as none', () => {
    const reader = alb.reader(
      rules({
        by: 'day',
        filter: { since: undefined, until: { seconds: 0, instant: true }, excludeIps: [] },
      }),
    );
    const { out } = readLine(reader, line({ time: '2018-07-02T23:59:59.999999Z' }));
    expect([out.key, out.seconds, out.offsetMinutes]).toEqual([
      '2018-07-02',
      Date.UTC(2018, 6, 2, 23, 59, 59) / 1000,
      0,
    ]);
    const bad = readLine(reader, line({ time: '2018-13-02T00:00:00Z' })).out;
    expect([bad.key, bad.seconds]).toEqual(['unknown', NaN]);
  });

  it('has no path for a request ALB could not read, and `-` codes are none', () => {
    const { out } = readLine(
      alb.reader(rules({ panels: ['paths'] })),
      line({ request: '- - - ', status: '-', agent: '-' }),
    );
    expect([out.target, out.status, out.agent]).toEqual([undefined, -1, '-']);
  });

  it.each([
    ['[::1]:80', [1, 4]],
    ['1.2.3.4:80', [0, 7]],
    ['1.2.3.4', undefined],
    ['1.2.3.4:', undefined],
    ['[::1]', undefined],
    [':80', undefined],
  ])('finds the address of the client field %j', (field, bounds) => {
    const bytes = Buffer.from(field);
    expect(addressOfClient(bytes, 0, bytes.length)).toEqual(bounds);
  });

  it.each([
    ['http://h:80/a', '/a'],
    ['https://h', '/'],
    ['/already', '/already'],
    [undefined, undefined],
  ])('gives the path of the target %j', (target, path) => {
    expect(pathOfUrl(target)).toBe(path);
  });

  it.each([
    [line(), true],
    ['h2 2018-07-02T22:23:00Z x', true],
    ['wss 2018-07-02T22:23:00Z x', true],
    ['http x', false],
    ['https', false],
    ['1.2.3.4 - - [x]', false],
    ['host:80 1.2.3.4 - -', false],
  ])('auto takes %j as ALB: %s', (given, expected) => {
    const bytes = Buffer.from(given);
    expect(looksLikeAlb(bytes, 0, bytes.length)).toBe(expected);
  });
});
