// Debian's Chromium, driven by playwright-core (no browser is downloaded), headless, with a fresh
// profile and without the background traffic it would otherwise keep trying to send to a network
// that is closed here (docs/testing.md, shared facts on browser tests).
import { chromium, type Browser } from 'playwright-core';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
