/**
 * The --html report in headless Chromium, as a person opens it from disk: it shows the
 * numbers of `--json` from the same run, logs no console error (a script or style the CSP
 * refused would), requests nothing but itself, sorts a table when a header is clicked, and
 * shows hostile names as text.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../src/logstats/report/render.ts';
import { printable } from '../../src/ui/printable.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { runCrew } from '../helpers/cli.ts';
import { HOSTILE, PANEL_SECTIONS, summary } from '../helpers/report-summaries.ts';

let dir: string;
let browser: Browser;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crew-html-browser-'));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Opened {
  readonly page: Page;
  /** Every request the page made, its own file's included. */
  readonly requests: string[];
  /** Console errors and warnings, and uncaught exceptions. */
  readonly problems: string[];
}

/** Opens `file` in a fresh tab and waits for it to load. */
async function open(file: string): Promise<Opened> {
  const page = await browser.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, requests, problems };
}

/**
 * The page's scripts, images and style sheets, and whether its body shows: a name that closed
 * the `<style>` or opened a `<script>` or `<img>` would change them. (A string: the tests are
 * typed without the DOM's globals.)
 */
const ELEMENTS = `[document.scripts.length, document.images.length, document.styleSheets.length,
  getComputedStyle(document.body).display]`;

const texts = (page: Page, selector: string): Promise<string[]> =>
  page.evaluate(
    `Array.from(document.querySelectorAll(${JSON.stringify(selector)}), (e) => e.textContent)`,
  ) as Promise<string[]>;

interface Json {
  files: { file: string; total: number }[];
  all: { total: number; ip: number };
  groups: { key: string }[];
}

describe('logstats --html in Chromium', () => {
  it('shows the numbers of --json, fetches nothing, logs no error, and sorts by a click', async () => {
    const logs = join(dir, 'logs');
    await mkdir(logs);
    // Files of different sizes (so sorting by requests has one answer), one with a name of markup.
    const names = ['small.log', '<img src=x onerror=alert(1)>".log', 'big.log'];
    for (const [index, name] of names.entries()) {
      const lines = Array.from(
        { length: (index + 1) * 70 },
        (_, i) =>
          `192.0.2.${(i * 7) % (index + 20)} - - [${10 + (i % 4)}/Apr/2024:08:00:00 +0200] "GET /p/${i} HTTP/1.1" 200 99`,
      );
      await writeFile(join(logs, name), `${lines.join('\n')}\n`);
    }
    const report = join(dir, 'report.html');
    const run = await runCrew(['logstats', logs, '--by', 'day', '--json', '--html', report]);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as Json;
    const { page, requests, problems } = await open(report);

    const figure = async (id: string) => (await texts(page, `[data-figure=${id}] .value`))[0];
    expect(await figure('requests')).toBe(json.all.total.toLocaleString('en-US'));
    expect(await figure('clients')).toBe(json.all.ip.toLocaleString('en-US'));
    expect(json.all.total).toBe(420);
    expect(await texts(page, 'svg.chart')).toHaveLength(2);
    expect(await texts(page, '#groups tbody td:first-child')).toEqual(
      json.groups.map((g) => g.key),
    );
    expect(await texts(page, '#files tbody td:first-child')).toEqual(json.files.map((f) => f.file));
    expect(await page.evaluate(ELEMENTS)).toEqual([1, 0, 1, 'block']);

    // The files by requests: the first click puts the busiest first, the second the least.
    const byRequests = [...json.files].sort((a, b) => b.total - a.total).map((f) => f.file);
    expect(await texts(page, '#files tbody td:first-child')).not.toEqual(byRequests);
    await page.click('#files th:nth-child(2)');
    expect(await texts(page, '#files tbody td:first-child')).toEqual(byRequests);
    await page.click('#files th:nth-child(2)');
    expect(await texts(page, '#files tbody td:first-child')).toEqual(byRequests.toReversed());
    expect(await page.evaluate(`document.querySelector('#files th:nth-child(2)').ariaSort`)).toBe(
      'ascending',
    );

    expect(problems).toEqual([]);
    expect(requests).toEqual([pathToFileURL(report).href]);
    await page.close();
  });

  it('shows every panel and hostile strings as text, running no script but its own', async () => {
    const file = join(dir, 'panels.html');
    await writeFile(file, renderReport(summary({ groups: true, panels: true })));
    const { page, requests, problems } = await open(file);
    const titles = await texts(page, 'section h2');
    expect(titles).toEqual(expect.arrayContaining(PANEL_SECTIONS));
    // The names arrive as the terminal shows them, markup and all, as text.
    const cells = await texts(page, 'td');
    for (const hostile of [HOSTILE.script, HOSTILE.image, HOSTILE.style, HOSTILE.closeScript]) {
      expect(cells).toContain(hostile);
    }
    expect(cells).toContain(printable(HOSTILE.controls));
    expect(cells).toContain(printable(HOSTILE.surrogate));
    expect(await page.evaluate(ELEMENTS)).toEqual([1, 0, 1, 'block']);

    // A column of numbers sorts by value, not as text ("90" would come before "230").
    await page.click('#panel-hours th:nth-child(2)');
    const hours = await texts(page, '#panel-hours tbody td:first-child');
    expect(hours.slice(0, 3)).toEqual(['23', '22', '21']);

    expect(problems).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]);
    await page.close();
  });
});
