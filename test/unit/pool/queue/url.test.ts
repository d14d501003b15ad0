import { describe, expect, it } from 'vitest';
import { queueUrlProblem, redactUrl } from '../../../../src/pool/queue/url.ts';

describe('redactUrl', () => {
  it.each([
    ['postgres://crew:s3cret@db.local:5432/crew', 'postgres://crew:***@db.local:5432/crew'],
    ['postgres://crew@db/crew', 'postgres://crew@db/crew'],
    ['postgresql://u:p%40ss@h/d?sslmode=require&password=x', 'postgresql://u:***@h/d'],
    ['not a url s3cret', '(an unreadable queue URL)'],
  ])('%s -> %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});

describe('queueUrlProblem', () => {
  it.each([
    ['postgres://crew:pw@127.0.0.1:5432/crew', undefined],
    ['postgresql://h/d', undefined],
    ['redis://h', 'the queue must be a postgres:// URL; got redis://...'],
    ['http://user:pw@h/', 'the queue must be a postgres:// URL; got http://...'],
    ['db.local', 'the queue must be a URL such as postgres://user@host/db'],
    ['postgres:///crew', 'the queue URL names no host'],
  ])('%s', (url, problem) => {
    expect(queueUrlProblem(url)).toBe(problem);
  });
});
