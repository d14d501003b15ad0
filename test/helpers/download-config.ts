/** What in-process tests of the download stages run with. */
import type { DownloadConfig } from '../../src/download/config.ts';

/**
 * A download config for tests: the inline runtime (the stages and the fetch share this
 * process), one quick retry, short timeouts, every option at its plain value.
 */
export function downloadConfig(
  csv: string,
  out: string,
  overrides: Partial<DownloadConfig> = {},
): DownloadConfig {
  return {
    workers: 1,
    runtime: 'inline',
    json: true,
    quiet: true,
    debug: false,
    csv,
    out,
    csvHeader: 'auto',
    urlColumn: undefined,
    nameColumn: undefined,
    encoding: 'auto',
    ext: undefined,
    concurrency: 16,
    perHost: 16,
    force: false,
    fetch: {
      retries: 1,
      timeoutMs: 2000,
      maxTimeMs: 10_000,
      maxBytes: 1 << 20,
      headers: { 'user-agent': 'crew-test' },
      locationTrusted: false,
      stacks: true,
      anyType: false,
      backoffMs: 10,
      http: 'auto',
    },
    ...overrides,
  };
}

/**
 * No proxy may stand between an in-process fetch and the loopback server, whatever the
 * machine sets. Call before the first fetch: the agent reads these once.
 */
export function loopbackWithoutProxy(): void {
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) {
    process.env[name] = '';
  }
  process.env['NO_PROXY'] = '*';
}
