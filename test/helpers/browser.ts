import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

/** Debian's chromium (apt-get install chromium); CHROMIUM_BIN overrides. Never a downloaded browser. */
export const CHROMIUM_BIN = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';

/**
 * Headless Chromium driven by playwright-core. Fails loudly when the browser is missing (the
 * tests must not pass by skipping). The flags keep Chromium off the network: it must not reach
 * Google's services from a closed machine.
 */
export async function launchChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM_BIN)) throw new Error(`no Chromium at ${CHROMIUM_BIN}: apt-get install chromium (or set CHROMIUM_BIN)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    browser,
    // Playwright gives each launch a fresh empty profile of its own and removes it on close.
    close: () => browser.close(),
  };
}
