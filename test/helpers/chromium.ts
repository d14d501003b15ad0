/**
 * Headless Chromium for the tests that look at a page as a person would: Debian's
 * `chromium` package (.ci/run installs it), driven by puppeteer-core, which never downloads
 * a browser of its own. Without one the test fails saying what to install: it is never skipped.
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser to run: $CHROMIUM if set, else the first of the usual paths that exists. */
export function chromiumPath(): string {
  const given = process.env['CHROMIUM'];
  const path = given ?? CANDIDATES.find((candidate) => existsSync(candidate));
  if (path === undefined || !existsSync(path)) {
    throw new Error(
      `headless Chromium not found (${given ?? CANDIDATES.join(', ')}): install it with ` +
        '`apt-get install chromium`, or point CHROMIUM at one',
    );
  }
  return path;
}

/** A headless browser with no sandbox (tests run as root) and no GPU. */
export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
  });
}
