import { describe, expect, it } from 'vitest';
import { isLinkLocal, refuseRedirect } from '../../../src/download/fetch.ts';

describe('refuseRedirect', () => {
  const here = 'http://a/x';
  it.each([
    ['/y', 'http://a/y'],
    ['http://b:81/z', 'http://b:81/z'],
    ['ftp://a/x', 'redirect to a non-http URL (ftp:)'],
    [
      'http://169.254.169.254/latest/meta-data/',
      'redirect to a link-local address (169.254.169.254) refused',
    ],
    ['http://[fe80::1]/', 'redirect to a link-local address ([fe80::1]) refused'],
    [
      'http://[::ffff:169.254.169.254]/',
      'redirect to a link-local address ([::ffff:a9fe:a9fe]) refused',
    ],
    ['/x', 'redirect loop'],
    [`/${'a'.repeat(8192)}`, 'redirect to a URL longer than 8192 bytes'],
    ['http://[oops/', 'redirect to an invalid URL'],
  ])('%s', (location, expected) => {
    const result = refuseRedirect(location, here, new Set([here]));
    expect(typeof result === 'string' ? result : result.href).toBe(expected);
  });

  it('stops after 5 redirects', () => {
    const seen = new Set(['http://a/0', 'http://a/1', 'http://a/2', 'http://a/3', 'http://a/4']);
    expect(refuseRedirect('/5', 'http://a/4', seen)).toBeInstanceOf(URL);
    seen.add('http://a/5');
    expect(refuseRedirect('/6', 'http://a/5', seen)).toBe('more than 5 redirects');
  });
});

describe('isLinkLocal', () => {
  it.each([
    ['169.254.0.1', true],
    ['169.254.169.254', true],
    ['[fe80::1]', true],
    ['[febf::1]', true],
    ['[::ffff:a9fe:1]', true],
    ['169.255.0.1', false],
    ['10.0.0.1', false],
    ['[fec0::1]', false],
    ['169.254.example.com', false],
  ])('%s: %s', (host, expected) => {
    expect(isLinkLocal(host)).toBe(expected);
  });
});
