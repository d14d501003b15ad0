import { describe, expect, it } from 'vitest';
import { answerProblem } from '../../../src/download/answer-check.ts';
import type { FetchInput, RequestResult } from '../../../src/download/fetch.ts';

const tempFolder = '/data/out/.crew-0123abcd';
const asked = (place: FetchInput['place'], bodyInMemory?: true): FetchInput =>
  ({
    url: 'http://h/a.png',
    tempFolder,
    place,
    bodyInMemory,
    headers: {},
    visited: [],
  }) as unknown as FetchInput;
const placeHere = { folder: '/data/out', stem: 'a', ext: null };
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
      'its temp file when its parent places (a queue worker always leaves it there)',
      ok({ temp: `${tempFolder}/0123456789abcdef.part` }),
      asked(placeHere),
    ],
    [
      'its temp file in the run’s temp folder',
      ok({ temp: `${tempFolder}/0123456789abcdef.part` }),
      asked(null),
    ],
    [
      'the same folder written with a trailing slash',
      ok({ temp: `${tempFolder}//0123456789abcdef.part` }),
      asked(null),
    ],
    ['a name in the folder it was to place in', ok({ placed: 'a.png' }), asked(placeHere)],
    ['a name with an -n suffix and no extension', ok({ placed: 'a-2' }, ''), asked(placeHere)],
    ['a body in memory it was asked for', ok({ body: new Uint8Array(3) }), asked(null, true)],
    ['a write failure', ok({ writeError: { message: 'disk full', output: true } }), asked(null)],
  ])('accepts %s', (_, result, input) => {
    expect(answerProblem(result, input)).toBeUndefined();
  });

  it.each([
    ['a file anywhere', ok({ temp: '/etc/shadow' }), asked(null), 'a temp file crew did not name'],
    [
      'a crew-like name elsewhere',
      ok({ temp: '/etc/0123456789abcdef.part' }),
      asked(null),
      'a temp file outside the run’s temp folder',
    ],
    [
      'a way out of the temp folder',
      ok({ temp: `${tempFolder}/../../../etc/0123456789abcdef.part` }),
      asked(null),
      'a temp file outside the run’s temp folder',
    ],
    [
      'a subfolder of the temp folder',
      ok({ temp: `${tempFolder}/x/0123456789abcdef.part` }),
      asked(null),
      'a temp file outside the run’s temp folder',
    ],
    [
      'a temp file that is not text',
      ok({ temp: 42 }),
      asked(null),
      'a temp file crew did not name',
    ],
    [
      'a placed name when the parent places',
      ok({ placed: 'a.png' }),
      asked(null),
      'a placed file where the parent places it',
    ],
    [
      'a placed name with a slash',
      ok({ placed: '../../etc/cron.d/x' }),
      asked(placeHere),
      'a file name that is not one',
    ],
    [
      'a placed name of two dots',
      ok({ placed: '..' }),
      asked(placeHere),
      'a file name that is not one',
    ],
    ['an empty placed name', ok({ placed: '' }), asked(placeHere), 'a file name that is not one'],
    [
      'an extension with a slash',
      ok({ placed: 'a.png' }, 'png/../../x'),
      asked(placeHere),
      'an extension that is not one',
    ],
    [
      'an extension with a dot',
      ok({ temp: `${tempFolder}/0123456789abcdef.part` }, '.png'),
      asked(null),
      'an extension that is not one',
    ],
    [
      'a body nobody asked for',
      ok({ body: new Uint8Array(3) }),
      asked(null),
      'a body in memory that was not asked for',
    ],
    ['a body that is text', ok({ body: 'abc' }), asked(null, true), 'a body that is not bytes'],
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
    expect(answerProblem(failed, asked(null))).toBeUndefined();
    expect(answerProblem(redirect, asked(null))).toBeUndefined();
  });
});
