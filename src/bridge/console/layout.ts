// The page every console answer is drawn in: a skip link, the navigation (Deliveries for admins
// only), one <main>, and who is signed in. Landmarks and headings are what a screen reader uses to
// move around, so every page has exactly one <h1> and its sections <h2>.
import type { Identity } from '../../core/identity.js';
import type { ConsoleAssets } from './assets.js';
import { html, type Html } from './html.js';

export type Section = 'jobs' | 'start' | 'deliveries' | 'usage' | 'none';

export interface Viewer {
  identity: Identity | undefined;
  admin: boolean;
}

const sections: Array<{ id: Section; href: string; label: string; admin?: boolean }> = [
  { id: 'jobs', href: '/ui/jobs', label: 'Jobs' },
  { id: 'start', href: '/ui/start', label: 'Start a job' },
  { id: 'deliveries', href: '/ui/deliveries', label: 'Deliveries', admin: true },
  { id: 'usage', href: '/ui/usage', label: 'Usage' },
];

export function layout(
  assets: ConsoleAssets,
  viewer: Viewer,
  page: { title: string; section: Section; body: Html },
): string {
  const { identity } = viewer;
  const nav =
    identity === undefined
      ? ''
      : html`<nav aria-label="Console">
          <ul>
            <li><a href="/ui/jobs" class="brand">Gatehouse</a></li>
          </ul>
          <ul>
            ${sections
              .filter((s) => s.admin !== true || viewer.admin)
              .map(
                (s) =>
                  html`<li>
                    <a href="${s.href}" ${page.section === s.id ? html`aria-current="page"` : ''}>${s.label}</a>
                  </li>`,
              )}
            <li><a href="/auth/logout">Sign out</a></li>
          </ul>
        </nav>`;
  const signedIn =
    identity === undefined
      ? ''
      : html`<footer class="container">
          <small
            >Signed in as
            <strong>${identity.name ?? identity.subject}</strong>
            (${identity.principal})${viewer.admin ? ', admin' : ''}</small
          >
        </footer>`;
  return html`<!doctype html>
    <html lang="en" data-theme="light">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${page.title} · Gatehouse</title>
        <link rel="stylesheet" href="${assets.pico.url}" />
        <link rel="stylesheet" href="${assets.style.url}" />
        <script type="module" src="${assets.script.url}"></script>
      </head>
      <body>
        <a class="skip-link" href="#main">Skip to the content</a>
        <header class="container">${nav}</header>
        <main id="main" class="container" tabindex="-1">${page.body}</main>
        <p id="live" role="status" class="visually-hidden"></p>
        ${signedIn}
      </body>
    </html> `.text;
}
