import { describe, expect, it } from 'vitest';
import {
  headersFor,
  recordedUrl,
  toTarget,
  type Target,
} from '../../../src/download/credentials.ts';

const basic = (pair: string): string => `Basic ${Buffer.from(pair).toString('base64')}`;

describe('toTarget', () => {
  it.each([
    ['http://h/x.png', { url: 'http://h/x.png', origin: 'http://h', basic: undefined }],
    [
      'http://ann:s3@h:81/x',
      { url: 'http://h:81/x', origin: 'http://h:81', basic: basic('ann:s3') },
    ],
    ['http://ann@h/x', { url: 'http://h/x', origin: 'http://h', basic: basic('ann:') }],
    [
      'http://a%20b:p%40ss@h/x',
      { url: 'http://h/x', origin: 'http://h', basic: basic('a b:p@ss') },
    ],
    [
      'http://a:%E0%A4%A@h/x',
      { error: 'the user:password in the URL is not valid percent-encoding' },
    ],
    ['http://a%3Ab:c@h/x', { error: 'the user name in the URL holds a ":"' }],
    [`http://h/${'a'.repeat(8192)}`, { error: 'URL longer than 8192 bytes' }],
    ['http://[nope/x', { error: 'not a valid URL' }],
  ])('%s', (url, expected) => {
    expect(toTarget(url)).toEqual(expected);
  });
});

describe('headersFor', () => {
  const headers = {
    'user-agent': 'ua',
    authorization: 'Bearer t',
    cookie: 'c=1',
    'proxy-authorization': 'p',
  };
  const plain: Target = { url: 'http://a/x', origin: 'http://a', basic: undefined };
  const withUser: Target = { ...plain, basic: 'Basic eA==' };
  it.each([
    ['the row origin keeps everything', headers, plain, 'http://a', false, headers],
    ['another origin loses credentials', headers, plain, 'http://b', false, { 'user-agent': 'ua' }],
    [
      'another port is another origin',
      headers,
      plain,
      'http://a:8080',
      false,
      { 'user-agent': 'ua' },
    ],
    [
      'https -> http is another origin',
      headers,
      { ...plain, origin: 'https://a' },
      'http://a',
      false,
      { 'user-agent': 'ua' },
    ],
    ['--location-trusted keeps them', headers, plain, 'http://b', true, headers],
    [
      'user:pass@ on its origin',
      { 'user-agent': 'ua' },
      withUser,
      'http://a',
      false,
      { 'user-agent': 'ua', authorization: 'Basic eA==' },
    ],
    [
      'user:pass@ elsewhere',
      { 'user-agent': 'ua' },
      withUser,
      'http://b',
      false,
      { 'user-agent': 'ua' },
    ],
    ['-H Authorization wins over user:pass@', headers, withUser, 'http://a', false, headers],
  ])('%s', (_, given, target, origin, trusted, expected) => {
    expect(headersFor(given, target, origin, trusted)).toEqual(expected);
  });
});

describe('recordedUrl', () => {
  it.each([
    ['http://h/x', 'http://h/x'],
    ['http://ann:s3cret@h/x', 'http://ann:***@h/x'],
    ['https://ann:p@ss@h/x@y', 'https://ann:***@h/x@y'],
    // An e-mail address as the user name: the password is after its first ":".
    ['http://me@example.com:hunter2@h/a.png', 'http://me@example.com:***@h/a.png'],
    ['http://me@example.com:hun:ter@2@h/a', 'http://me@example.com:***@h/a'],
    // A user name alone is often a token.
    ['http://TOKEN@h/x', 'http://***@h/x'],
    ['http://me@example.com@h/x', 'http://***@h/x'],
    ['http://ann:@h/x', 'http://***@h/x'],
    ['http://:s3cret@h/x', 'http://:***@h/x'],
    ['HTTPS://Ann:S3@H/x', 'HTTPS://Ann:***@H/x'],
    // The parser takes any slashes and backslashes after an http scheme, and ends the
    // authority at a backslash.
    ['http:\\\\ann:s3@h\\x@y', 'http:\\\\ann:***@h\\x@y'],
    ['http:ann:s3@h/x', 'http:ann:***@h/x'],
    ['http:///ann:s3@h/x', 'http:///ann:***@h/x'],
    ['http://ann:s3%40@h/x', 'http://ann:***@h/x'],
    ['http://ann:s3\t@h/x', 'http://ann:***@h/x'],
    // Not an http URL (a bad row) is still redacted; its authority ends at / ? # only.
    ['ftp://ann:s3@h/x', 'ftp://ann:***@h/x'],
    ['foo://ann:s3\\x@h/x', 'foo://ann:***@h/x'],
    // Not credentials: an @ after the authority, or no user info at all.
    ['http://h/x?to=a:b@c', 'http://h/x?to=a:b@c'],
    ['http://h#a:b@c', 'http://h#a:b@c'],
    ['http://h\\a:b@c', 'http://h\\a:b@c'],
    ['http://@h/x', 'http://@h/x'],
    ['mailto:ann@h', 'mailto:ann@h'],
    // A tab in the scheme: the text rule does not see the scheme, the parser does.
    ['ht\ttp://ann:s3@h/x', 'http://ann:***@h/x'],
    // Not a URL at all: the text rule alone.
    ['http://ann:s3@h h/x', 'http://ann:***@h h/x'],
  ])('%s -> %s', (url, expected) => {
    expect(recordedUrl(url)).toBe(expected);
  });

  it.each([
    'http://me@example.com:hunter2@h/a.png',
    'http://ann:hunter2@h/x',
    'http://hunter2@h/x',
    'http:\\\\hunter2@h/x',
    'http://a:b:hunter2@h/x',
    'ht\ttp://a:hunter2@h/x',
    '\u0001http://a:hunter2@h/x',
    'http://a:hun\nter2@h/x',
  ])('never shows the password or token of %j, however it is written', (url) => {
    const recorded = recordedUrl(url);
    expect(recorded).not.toContain('hunter2');
    expect(recorded.replaceAll(/[\t\n]/g, '')).not.toContain('hunter2');
  });

  it('cuts a very long URL and says how long it was', () => {
    const url = `http://h/${'a'.repeat(20_000)}`;
    expect(recordedUrl(url)).toBe(`${url.slice(0, 8192)}... (${url.length} characters)`);
  });
});
