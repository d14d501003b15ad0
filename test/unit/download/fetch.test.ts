import { describe, expect, it } from 'vitest';
import { cannotSucceed } from '../../../src/download/fetch.ts';

const failure = (code: string | undefined, onCause = false): Error =>
  onCause
    ? new Error('fetch failed', { cause: Object.assign(new Error(code), { code }) })
    : Object.assign(new Error(code), { code });

describe('cannotSucceed', () => {
  it.each([
    ['CERT_HAS_EXPIRED', true],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', true],
    ['SELF_SIGNED_CERT_IN_CHAIN', true],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', true],
    ['ERR_TLS_CERT_ALTNAME_INVALID', true],
    ['UND_ERR_HEADERS_OVERFLOW', true],
    // Worth another attempt: the network, a handshake that took too long, a reset.
    ['ERR_TLS_HANDSHAKE_TIMEOUT', false],
    ['ECONNRESET', false],
    ['UND_ERR_SOCKET', false],
    ['UND_ERR_HEADERS_TIMEOUT', false],
    [undefined, false],
  ])('%s -> %s', (code, final) => {
    expect(cannotSucceed(failure(code))).toBe(final);
    expect(cannotSucceed(failure(code, true))).toBe(final);
  });
});
