// The console in a real browser: Debian's Chromium through playwright-core (no browser download),
// signing in at the development issuer's page, a screenshot of a page at desktop and phone widths,
// and axe-core's accessibility check of it. axe's file (from npm) is evaluated through the DevTools
// protocol, which the console's Content-Security-Policy does not govern: the policy stays on.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

export { launchChromium } from './chromium.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const desktop = { width: 1280, height: 900 };
export const phone = { width: 390, height: 844 };

/** Opens `path`, signs in at the dev issuer's form as `username` with `groups`, and follows back. */
export async function signIn(page: Page, base: string, path: string, username: string, groups: string) {
  await page.goto(`${base}${path}`);
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Groups (comma-separated)').fill(groups);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.origin === base && url.pathname.startsWith(path));
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.1 A and AA rules and best practices). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  // Runs in the page: its globals are the browser's (this project compiles without the DOM types).
  const violations = await page.evaluate(async () => {
    const page = globalThis as unknown as {
      axe: { run(context: unknown): Promise<{ violations: AxeViolation[] }> };
      document: unknown;
    };
    return (await page.axe.run(page.document)).violations;
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Screenshots of the page at desktop and phone widths into `dir` (`<name>.desktop.png`,
 * `<name>.phone.png`), each width checked by axe; returns what axe found at either.
 */
export async function capture(page: Page, dir: string, name: string): Promise<AxeViolation[]> {
  const found: AxeViolation[] = [];
  for (const [label, size] of [
    ['desktop', desktop],
    ['phone', phone],
  ] as const) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(dir, `${name}.${label}.png`), fullPage: true });
    found.push(...(await seriousViolations(page)));
  }
  await page.setViewportSize(desktop);
  return found;
}
