import { describe, expect, it } from 'vitest';
import { answerProblem } from '../../../src/download/answer-check.ts';
import type { FetchInput, RequestResult } from '../../../src/download/fetch.ts';

const tempFolder = '/data/out/.crew-0123abcd';
const asked = (bodyInMemory?: true): FetchInput =>
  ({
    url: 'http://h/a.png',
    tempFolder,
    bodyInMemory,
    headers: {},
    visited: [],
  }) as unknown as FetchInput;
const ok = (landed: Record<string, unknown>, ext = 'png'): RequestResult =>
  ({
    kind: 'ok',
    status: 200,
    bytes: 3,
    sha256: 'x',
    contentType: 'image/png',
    ext,
    finalUrl: 'http://h/a.png',
    ...landed,
  }) as RequestResult;

describe('answerProblem: where a worker says a body landed', () => {
  it.each([
    [
      'its temp file in the run’s temp folder',
      ok({ temp: `${tempFolder}/0123456789abcdef.part` }),
      asked(),
    ],
    [
      'the same folder written with a trailing slash',
      ok({ temp: `${tempFolder}//0123456789abcdef.part` }),
      asked(),
    ],
    [
      'a temp file with no extension known',
      ok({ temp: `${tempFolder}/0123456789abcdef.part` }, ''),
      asked(),
    ],
    ['a body in memory it was asked for', ok({ body: new Uint8Array(3) }), asked(true)],
  ])('accepts %s', (_, result, input) => {
    expect(answerProblem(result, input)).toBeUndefined();
  });

  it.each([
    ['a file anywhere', ok({ temp: '/etc/shadow' }), asked(), 'a temp file crew did not name'],
    [
      'a crew-like name elsewhere',
      ok({ temp: '/etc/0123456789abcdef.part' }),
      asked(),
      'a temp file outside the run’s temp folder',
    ],
    [
      'a way out of the temp folder',
      ok({ temp: `${tempFolder}/../../../etc/0123456789abcdef.part` }),
      asked(),
      'a temp file outside the run’s temp folder',
    ],
    [
      'a subfolder of the temp folder',
      ok({ temp: `${tempFolder}/x/0123456789abcdef.part` }),
      asked(),
      'a temp file outside the run’s temp folder',
    ],
    ['a temp file that is not text', ok({ temp: 42 }), asked(), 'a temp file crew did not name'],
    // Workers never name files (the parent does, in the turn it queues the row's line).
    [
      'a file it says it named',
      ok({ placed: 'a.png' }),
      asked(),
      'a body that is neither in a temp file nor in memory',
    ],
    [
      'a file named out of the folder',
      ok({ placed: '../../etc/cron.d/x' }),
      asked(),
      'a body that is neither in a temp file nor in memory',
    ],
    [
      'a write failure where a body should be',
      ok({ writeError: { message: 'disk full', output: true } }),
      asked(),
      'a body that is neither in a temp file nor in memory',
    ],
    [
      'an extension with a slash',
      ok({ temp: `${tempFolder}/0123456789abcdef.part` }, 'png/../../x'),
      asked(),
      'an extension that is not one',
    ],
    [
      'an extension with a dot',
      ok({ temp: `${tempFolder}/0123456789abcdef.part` }, '.png'),
      asked(),
      'an extension that is not one',
    ],
    [
      'a body nobody asked for',
      ok({ body: new Uint8Array(3) }),
      asked(),
      'a body in memory that was not asked for',
    ],
    ['a body that is text', ok({ body: 'abc' }), asked(true), 'a body that is not bytes'],
  ])('refuses %s', (_, result, input, why) => {
    expect(answerProblem(result, input)).toBe(why);
  });

  it('has nothing to say of failures and redirects', () => {
    const failed = {
      kind: 'failed',
      status: 404,
      error: 'HTTP 404',
      retry: 'no',
      retryAfterMs: undefined,
    } as const;
    const redirect = { kind: 'redirect', status: 302, url: 'http://x/', visited: [] } as const;
    expect(answerProblem(failed, asked())).toBeUndefined();
    expect(answerProblem(redirect, asked())).toBeUndefined();
  });
});
