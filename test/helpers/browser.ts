/**
 * A real headless browser for UI tests: Debian's chromium driven by playwright-core
 * (never a downloaded browser). `launch` gives each run a fresh temporary profile and each
 * test gets its own context; every request that leaves the gateway's origin is recorded.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Why browser tests cannot run here, or null when they can. */
export function browserUnavailable(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `${CHROMIUM_PATH} is missing; install it with: sudo apt-get update && sudo apt-get install -y chromium`;
}

/**
 * browserUnavailable for a test file's browser suite, called at its top level: on CI a missing
 * browser fails the file (a `suite` test that says why), elsewhere the suite is skipped with a
 * warning naming `skipped`. Returns the reason, for the suite's skipIf.
 */
export function browserForSuite(suite: string, skipped: string): string | null {
  const unavailable = browserUnavailable();
  if (unavailable && process.env['CI']) {
    describe(suite, () => {
      it('needs chromium on CI', () => {
        throw new Error(unavailable);
      });
    });
  } else if (unavailable) {
    console.warn(`skipping ${skipped}: ${unavailable}`);
  }
  return unavailable;
}

export interface TestBrowser {
  readonly browser: Browser;
  /** A new context (own cookies and storage) and page, with off-origin requests and page errors recorded. */
  open(origin: string, viewport?: { width: number; height: number }): Promise<TestPage>;
  close(): Promise<void>;
}

export interface TestPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** URLs requested from any origin other than the gateway's. */
  readonly foreignRequests: string[];
  /** Uncaught page errors, console errors (CSP violations show up here) and unparsable headers. */
  readonly consoleErrors: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
  return {
    browser,
    async open(origin, viewport = { width: 1280, height: 900 }) {
      const context = await browser.newContext({ viewport, serviceWorkers: 'block' });
      // 30 s, as the other waits of the tests: on a loaded machine a page action can take seconds.
      context.setDefaultTimeout(30_000);
      const page = await context.newPage();
      const foreignRequests: string[] = [];
      const consoleErrors: string[] = [];
      context.on('request', (request) => {
        const url = request.url();
        // blob: and data: URLs never leave the browser; anything with a network origin must be ours.
        if (/^(blob|data|about):/.test(url)) return;
        if (new URL(url).origin !== origin) foreignRequests.push(url);
      });
      page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
      page.on('console', (message) => {
        // Chromium reports a header it cannot parse ("Error with Permissions-Policy header: …") as a warning.
        if (message.type() === 'error' || /^Error with [\w-]+ header/.test(message.text())) consoleErrors.push(message.text());
      });
      // Route handlers first, and what they throw from then on is dropped: a page's requests still in
      // flight when its test ends (the form's offers, sent after the prediction is shown) had their
      // responses disposed by the close, and a handler reading one (`response.json()`) rejected
      // unhandled, which vitest blamed on the next test and counted as an error of the run.
      const close = async () => {
        await page.unrouteAll({ behavior: 'ignoreErrors' });
        await context.unrouteAll({ behavior: 'ignoreErrors' });
        await context.close();
      };
      return { context, page, foreignRequests, consoleErrors, close };
    },
    close: () => browser.close(),
  };
}

/**
 * Closes a test's tab, then fails the test on what the tab recorded: any request to a host other
 * than the gateway, and any console error except those matching `expected` (the answers a test
 * provokes on purpose, which chromium logs as failed loads, e.g. "status of 400").
 */
export async function closeTab(tab: TestPage, expected?: RegExp): Promise<void> {
  const { foreignRequests, consoleErrors } = tab;
  await tab.close();
  expect(foreignRequests, 'requests to hosts other than the gateway').toEqual([]);
  expect(consoleErrors.filter((e) => !expected?.test(e)), 'console errors (CSP violations, failed loads)').toEqual([]);
}

/**
 * Answers the page's request for the hashed script `name` (`app`, `batch`, `graphiql`) with the 404
 * the gateway gives a hash it does not have, as a task serving another build answers it (docs/ui.md).
 */
export async function answerScript404(page: Page, name: string): Promise<void> {
  await page.route(new RegExp(`/ui/assets/${name}\\.[0-9a-f]+\\.js$`), (route) => route.fulfill({ status: 404, contentType: 'application/problem+json', body: '{"status":404}' }));
}

/**
 * Runs GraphiQL's active tab, and runs it again (up to 10 runs) while GraphiQL refuses it as
 * "Cannot infer operation …": GraphiQL takes a new tab's operation name 100 ms after showing the
 * tab's text (a debounced edit), and a run before that sends the previous tab's name; a loaded
 * machine can stretch that moment past a fixed wait. Each run starts once GraphiQL is idle: a
 * click while it fetches would stop the run instead.
 */
export async function runGraphiqlTab(page: Page): Promise<void> {
  const execute = page.locator('.graphiql-execute-button');
  const response = async () => (await page.locator('.graphiql-response').textContent()) ?? '';
  for (let run = 1; run <= 10; run++) {
    await page.waitForTimeout(300);
    await expect.poll(() => execute.getAttribute('aria-label'), { timeout: 30_000 }).toMatch(/^Execute query/);
    await execute.click();
    await expect.poll(response, { timeout: 30_000 }).not.toBe('');
    // Monaco shows spaces as no-break spaces, which \s matches.
    if (!/Cannot\sinfer\soperation/.test(await response())) return;
  }
}
