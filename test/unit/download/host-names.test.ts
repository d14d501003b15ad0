import { lookup as systemLookup, type LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { HostNames, type Resolve } from '../../../src/download/host-names.ts';

/** The system's resolver, counting the names asked of it. */
function counting(): { resolve: Resolve; asked: string[] } {
  const asked: string[] = [];
  const resolve: Resolve = (hostname, done) => {
    asked.push(hostname);
    systemLookup(hostname, { all: true }, (error, addresses) => done(error, addresses));
  };
  return { resolve, asked };
}

/** A socket's lookup, as net.connect makes it, as a promise of its callback's arguments. */
const lookUp = (names: HostNames, hostname: string, options: { all?: boolean; family?: number }) =>
  new Promise<unknown[]>((resolve) =>
    names.lookup(hostname, options, (...answer) => resolve(answer)),
  );

describe('HostNames', () => {
  it('asks once per name within the TTL, however many connections, and again after it', async () => {
    let now = 1000;
    const { resolve, asked } = counting();
    const names = new HostNames(60_000, resolve, () => now);
    // Sixteen connections opening at once share one question.
    const answers = await Promise.all(
      Array.from({ length: 16 }, () => lookUp(names, 'localhost', { all: true })),
    );
    expect(asked).toEqual(['localhost']);
    const [error, addresses] = answers[0]!;
    expect(error).toBeNull();
    expect((addresses as LookupAddress[]).length).toBeGreaterThan(0);
    await lookUp(names, 'LocalHost', { family: 4 });
    now += 59_999;
    const [, address, family] = await lookUp(names, 'localhost', { family: 4 });
    expect(asked).toEqual(['localhost']);
    expect(address).toBe('127.0.0.1');
    expect(family).toBe(4);
    now += 1;
    await lookUp(names, 'localhost', {});
    expect(asked).toEqual(['localhost', 'localhost']);
  });

  it('remembers a name that does not exist (ENOTFOUND), each caller getting its own error', async () => {
    const { resolve, asked } = counting();
    const names = new HostNames(60_000, resolve);
    const [first] = await lookUp(names, 'nonexistent.invalid', { all: true });
    const [second] = await lookUp(names, 'nonexistent.invalid', {});
    expect(asked).toEqual(['nonexistent.invalid']);
    expect((first as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
    expect((second as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
    expect(first).not.toBe(second);
  });

  it('asks again after a resolver that could not answer (EAI_AGAIN)', async () => {
    const asked: string[] = [];
    // No resolver can be made to fail for now on demand: this one says so.
    const resolve: Resolve = (hostname, done) => {
      asked.push(hostname);
      done(Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' }), []);
    };
    const names = new HostNames(60_000, resolve);
    const [error] = await lookUp(names, 'example.test', {});
    await lookUp(names, 'example.test', {});
    expect((error as NodeJS.ErrnoException).code).toBe('EAI_AGAIN');
    expect(asked).toEqual(['example.test', 'example.test']);
  });

  it('answers ENOTFOUND when the name has no address of the family asked', async () => {
    const resolve: Resolve = (_, done) => done(null, [{ address: '::1', family: 6 }]);
    const names = new HostNames(60_000, resolve);
    const [error] = await lookUp(names, 'six.test', { family: 4 });
    expect((error as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
    const [, all] = await lookUp(names, 'six.test', { all: true });
    expect(all).toEqual([{ address: '::1', family: 6 }]);
  });
});
