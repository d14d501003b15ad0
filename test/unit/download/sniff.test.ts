import { describe, expect, it } from 'vitest';
import { sniff } from '../../../src/download/sniff.ts';
import { retryAfter } from '../../../src/download/fetch.ts';
import { GIF, JPEG, PNG, WEBP } from '../../helpers/image-server.ts';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('sniff', () => {
  it.each([
    ['png bytes', PNG, 'application/octet-stream', 'png', true],
    ['jpeg bytes', JPEG, undefined, 'jpg', true],
    ['gif bytes', GIF, 'text/plain', 'gif', true],
    ['webp bytes', WEBP, '', 'webp', true],
    ['png bytes labelled jpeg', PNG, 'image/jpeg', 'png', true],
    ['avif', bytes('\0\0\0\x1cftypavif'), undefined, 'avif', true],
    ['bmp', bytes('BM' + '\0'.repeat(20)), undefined, 'bmp', true],
    ['tiff', bytes('II*\0xxxx'), undefined, 'tif', true],
    ['svg', bytes('  <svg xmlns="http://www.w3.org/2000/svg">'), 'image/svg+xml', 'svg', true],
    ['html page', bytes('<!DOCTYPE html><html>'), 'image/png', 'html', false],
    ['html by type', bytes('hello'), 'text/html; charset=utf-8', 'html', false],
    ['json', bytes('{"a":1}'), 'application/json', 'json', false],
    ['unknown bytes, image type', bytes('xxxx'), 'image/png', 'png', true],
    ['nothing known', bytes('xxxx'), undefined, '', false],
    ['empty body', Buffer.alloc(0), 'image/gif', 'gif', true],
  ])('%s', (_, head, type, ext, image) => {
    expect(sniff(head, type)).toMatchObject({ ext, image });
  });

  it('names the type in the error text', () => {
    expect(sniff(bytes('<html>'), 'text/html').type).toBe('text/html');
    expect(sniff(bytes('???'), undefined).type).toBe('unknown content');
  });
});

describe('retryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['1', 1000],
    [' 30 ', 30_000],
    ['100000', 60_000],
    ['Thu, 01 Jan 2026 00:00:05 GMT', 5000],
    ['Wed, 31 Dec 2025 00:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('%j -> %s ms', (value, expected) => {
    expect(retryAfter(value, now)).toBe(expected);
  });
});
