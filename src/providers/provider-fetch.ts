// How the reconciler's clients call a provider's API, which it does not control (it may be
// misconfigured, redirected or hostile): a redirect is never followed (the token would go with it
// to wherever it points), and no answer is read beyond a cap (a body without end would otherwise
// be held in the worker's memory, then in Temporal's payloads). Both are refused for good: asking
// again would get the same answer.
import { fail } from '../core/failures.js';

/** Statuses whose Response may not carry a body. */
const bodiless = new Set([101, 204, 205, 304]);

/**
 * A fetch for a provider's API: a redirect answer is a failure whatever the caller asked (the
 * request is sent with `redirect: 'manual'`, so nothing is sent to where it points), and the whole
 * body is read here, at most `maxBytes` of it, within `timeoutMs`, before the caller sees the
 * response.
 */
export function providerFetch(provider: string, maxBytes: number, timeoutMs: number): typeof fetch {
  return async (input, init) => {
    const signal = init?.signal ?? AbortSignal.timeout(timeoutMs);
    const response = await fetch(input, { ...init, redirect: 'manual', signal });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw fail(
        'ReconcilerRejected',
        `${provider} answered a redirect (${response.status}); the reconciler follows none`,
      );
    }
    const tooLarge = () =>
      fail('ReconcilerRejected', `${provider} answered more than ${maxBytes} bytes; the reconciler reads no more`);
    if (Number(response.headers.get('content-length')) > maxBytes) {
      await response.body?.cancel();
      throw tooLarge();
    }
    if (response.body === null || bodiless.has(response.status)) return response;
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(value);
    }
    const { status, statusText, headers } = response;
    return new Response(Buffer.concat(chunks), { status, statusText, headers });
  };
}
