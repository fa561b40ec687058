/**
 * A page as people see it: Debian's Chromium, headless, driven by playwright-core (no browser
 * download: this host reaches only the npm registry and Debian). The browser is closed when the
 * test ends, whatever happens; the page may not fetch anything but its own file.
 */
import type { ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';

/** Debian's Chromium, or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Opens `file` in headless Chromium; console errors and page errors are collected in `errors`. */
export async function openPage(t: ExecutionContext, file: string): Promise<{ page: Page; errors: string[] }> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (fix: apt-get install chromium, or set CHROMIUM_PATH)`);
  // As root on a host without user namespaces, Chromium's sandbox cannot start: the page is our own file.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'], timeout: 60_000 });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const url = pathToFileURL(file).href;
  // Nothing but the page itself: a trend page that fetched a script or a font from the network would fail here.
  await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
  page.on('requestfailed', (r) => errors.push(`request to ${r.url()} (the page must not fetch anything)`));
  await page.goto(url, { timeout: 60_000 });
  return { page, errors };
}
