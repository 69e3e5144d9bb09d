// The loopback end of a browser sign-in (RFC 8252 §7.3): an HTTP listener on 127.0.0.1 and an
// ephemeral port, for one redirect back from the issuer. 127.0.0.1 rather than `localhost`, which
// may resolve elsewhere or to IPv6 (§8.3). It takes the first request to /callback whose Host is
// this listener (a page elsewhere rebinding a name to 127.0.0.1 sends another Host), answers
// anything else 404, and the caller answers the browser once it knows how the sign-in went.
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Callback {
  /** The full URL the browser was sent back to (code, state, iss, or error). */
  url: URL;
  /** Ends the browser's request with a small page (how the sign-in went); resolves once it is sent. */
  answer(status: number, title: string, text: string): Promise<void>;
}

export interface CallbackListener {
  /** `http://127.0.0.1:<port>/callback`, the redirect_uri to send. */
  redirectUri: string;
  /** The first callback; rejects with the signal's reason when it is aborted first. */
  next(signal: AbortSignal): Promise<Callback>;
  close(): Promise<void>;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function sendPage(response: ServerResponse, status: number, title: string, text: string): Promise<void> {
  const sent = once(response, 'finish').then(() => undefined);
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    // The URL carried a code: keep the page out of caches, and the URL out of any Referer.
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    connection: 'close',
  });
  response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · gatehouse</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:4rem auto;max-width:32rem;padding:0 1rem}</style></head>
<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></main></body></html>`);
  return sent;
}

export async function listenForCallback(): Promise<CallbackListener> {
  let deliver: ((callback: Callback) => void) | undefined;
  const waiting = new Promise<Callback>((resolve) => (deliver = resolve));
  let taken = false;
  const server = createServer((request, response) => {
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const url = new URL(request.url ?? '/', `http://${host}`);
    if (request.method !== 'GET' || url.pathname !== '/callback' || request.headers.host !== host || taken) {
      void sendPage(
        response,
        404,
        'Not found',
        'This address only takes the sign-in that the gatehouse command started.',
      );
      return;
    }
    taken = true;
    deliver!({ url, answer: (status, title, text) => sendPage(response, status, title, text) });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    next(signal) {
      return new Promise<Callback>((resolve, reject) => {
        const abort = () => reject(signal.reason as Error);
        if (signal.aborted) return abort();
        signal.addEventListener('abort', abort, { once: true });
        void waiting.then((callback) => {
          signal.removeEventListener('abort', abort);
          resolve(callback);
        });
      });
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
