// The console's response headers. The Content-Security-Policy allows nothing but this origin's own
// scripts, styles, images and connections (the job event stream): no inline script or style, no
// eval, no framing (clickjacking on Cancel or Replay), forms only to this origin, no <base>.
// Pico's CSS draws its checkbox and select marks as data: SVG images, hence `img-src data:`.

export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Every console answer: the policy and the headers that keep a page from being framed, sniffed or leaked. */
export function consoleHeaders(kind: 'page' | 'asset'): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    // Pages show one person's jobs: never kept by a shared cache, nor by the browser's back cache.
    // Assets are named by their content's digest, so they may be kept for good.
    'cache-control': kind === 'page' ? 'no-store' : 'public, max-age=31536000, immutable',
  };
}
