// The console's job page in a real browser (bench/README.md, "People"): Debian's Chromium through
// playwright-core, signed in at the dev issuer's page, through the edge, on a job the person
// started. Each visit is a fresh browser context (a first visit: no cache, a new connection), then
// the same page once more in that context (assets from the cache). Measured: first-contentful-paint
// from the Performance API, and the page's weight: the HTML and every file it loads, the bytes the
// browser got (Resource Timing's transferSize) and what gzip and brotli would make of each body.
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { Page, Response } from 'playwright-core';
import { launchChromium } from '../../test/helpers/chromium.js';
import { signIn as signInAtIssuer } from '../../test/helpers/console-browser.js';
import { call } from '../load.js';
import { percentile } from '../stats.js';
import { ms, referenceRow, targetRow, type TargetRow } from '../targets.js';

export interface PageContext {
  origin: string;
  person: string;
  groups: string;
  visits: number;
  /** The policy-check job's input, as JSON. */
  query: string;
  say(line: string): void;
}

export interface PageFile {
  url: string;
  type: string;
  status: number;
  /** Content-Encoding as served ('' when none). */
  encoding: string;
  /** The body as the server sent it, and what gzip (level 6) and brotli (quality 11) make of it. */
  bytes: number;
  gzip: number;
  brotli: number;
  /** Resource Timing: bytes over the wire with headers (0 from the cache), and the body as received. */
  transferSize?: number;
  encodedBodySize?: number;
}

export interface PageFigures {
  jobId: string;
  /** Each first visit's and each visit again's times (Navigation and Paint Timing), ms. */
  firstVisits: VisitTimes[];
  againVisits: VisitTimes[];
  /** Medians of first-contentful-paint. */
  firstVisitFcp: number;
  againFcp: number;
  files: PageFile[];
  /** Requests that stay open (the job's event stream), not counted in the weight. */
  streams: string[];
  totals: { bytes: number; gzip: number; brotli: number; transferred: number; compressedByServer: boolean };
}

/**
 * From the navigation's start, ms: the connection (TCP and TLS), the HTML's first and last byte,
 * the last byte of the last stylesheet or script it loads, first paint.
 */
export interface VisitTimes {
  connected: number;
  firstByte: number;
  htmlDone: number;
  filesDone: number;
  firstContentfulPaint: number;
}

const firstRenderLimitMs = 300;
const weightLimitBytes = 150 * 1024;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

export async function measureJobPage(
  ctx: PageContext,
  signIn: () => Promise<{ cookies: Map<string, string> }>,
): Promise<PageFigures> {
  // A real job: started by the person through the edge with their session, as the console would.
  const { cookies } = await signIn();
  const started = await call(`${ctx.origin}/v1/jobs/policy-check`, {
    method: 'POST',
    headers: {
      cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/json',
    },
    body: ctx.query,
    timeoutMs: 10_000,
  });
  if (started.status !== 202)
    throw new Error(`starting a job answered ${started.status}: ${started.body.slice(0, 200)}`);
  const { jobId } = JSON.parse(started.body) as { jobId: string };
  const path = `/ui/jobs/${encodeURIComponent(jobId)}`;

  const browser = await launchChromium();
  try {
    // Signed in once in Chromium; every visit's fresh context starts with these cookies only.
    const signInContext = await browser.newContext({ ignoreHTTPSErrors: true });
    await signInAtIssuer(await signInContext.newPage(), ctx.origin, path, ctx.person, ctx.groups);
    const storageState = await signInContext.storageState();
    await signInContext.close();

    const firstVisits: VisitTimes[] = [];
    const againVisits: VisitTimes[] = [];
    let weight: Pick<PageFigures, 'files' | 'streams'> | undefined;
    for (let visit = 1; visit <= ctx.visits; visit += 1) {
      const context = await browser.newContext({ ignoreHTTPSErrors: true, storageState });
      try {
        const page = await context.newPage();
        const responses: Response[] = [];
        page.on('response', (response) => responses.push(response));
        const answer = await page.goto(`${ctx.origin}${path}`, { waitUntil: 'load', timeout: 30_000 });
        if (answer?.status() !== 200 || new URL(page.url()).pathname !== path) {
          throw new Error(`the job page answered ${answer?.status()} at ${page.url()}`);
        }
        firstVisits.push(await visitTimes(page));
        weight ??= await pageWeight(page, responses);
        await page.reload({ waitUntil: 'load', timeout: 30_000 });
        againVisits.push(await visitTimes(page));
      } finally {
        await context.close();
      }
      const [first, again] = [firstVisits.at(-1)!, againVisits.at(-1)!];
      ctx.say(
        `${`people: console job page, visit ${visit}/${ctx.visits}`.padEnd(56)} first contentful paint ` +
          `${ms(first.firstContentfulPaint, 0)} (connected ${ms(first.connected, 0)}, HTML's first byte ` +
          `${ms(first.firstByte, 0)}, last ${ms(first.htmlDone, 0)}, files' last ${ms(first.filesDone, 0)}); ` +
          `again ${ms(again.firstContentfulPaint, 0)} (files' last ${ms(again.filesDone, 0)})`,
      );
    }
    const files = weight?.files ?? [];
    const sum = (key: 'bytes' | 'gzip' | 'brotli' | 'transferSize') =>
      files.reduce((total, f) => total + (f[key] ?? 0), 0);
    const figures: PageFigures = {
      jobId,
      firstVisits,
      againVisits,
      firstVisitFcp: percentile(
        firstVisits.map((v) => v.firstContentfulPaint),
        50,
      ),
      againFcp: percentile(
        againVisits.map((v) => v.firstContentfulPaint),
        50,
      ),
      files,
      streams: weight?.streams ?? [],
      totals: {
        bytes: sum('bytes'),
        gzip: sum('gzip'),
        brotli: sum('brotli'),
        transferred: sum('transferSize'),
        compressedByServer: files.some((f) => f.encoding !== ''),
      },
    };
    ctx.say(
      `people: console job page weight: ${files.length} files, ${kb(figures.totals.bytes)} as served ` +
        `(${figures.totals.compressedByServer ? 'compressed' : 'not compressed'} by the bridge or the edge; ` +
        `${kb(figures.totals.transferred)} transferred), gzip ${kb(figures.totals.gzip)}, brotli ${kb(figures.totals.brotli)}: ` +
        files.map((f) => `${new URL(f.url).pathname.replace(/^\/ui\/assets\//, '')} ${kb(f.bytes)}`).join(', '),
    );
    return figures;
  } finally {
    await browser.close();
  }
}

/** The navigation's times and its first-contentful-paint (Paint Timing), once the browser has one. */
async function visitTimes(page: Page): Promise<VisitTimes> {
  // Expressions, evaluated in the page (this project compiles without the DOM's types). Not
  // waitForFunction: its polling evaluates strings in the page, which the console's CSP refuses.
  const painted = await page.evaluate(`new Promise((resolve) => {
    if (performance.getEntriesByName('first-contentful-paint').length > 0) return resolve(true);
    setTimeout(() => resolve(false), 30000);
    new PerformanceObserver((list) => {
      if (list.getEntriesByName('first-contentful-paint').length > 0) resolve(true);
    }).observe({ type: 'paint', buffered: true });
  })`);
  if (painted !== true) throw new Error('the job page had not painted after 30 s');
  return JSON.parse(
    (await page.evaluate(`(() => {
      const n = performance.getEntriesByType('navigation')[0];
      return JSON.stringify({
        connected: n.connectEnd,
        firstByte: n.responseStart,
        htmlDone: n.responseEnd,
        filesDone: Math.max(0, ...performance.getEntriesByType('resource')
          .filter((e) => e.initiatorType === 'link' || e.initiatorType === 'script')
          .map((e) => e.responseEnd)),
        firstContentfulPaint: performance.getEntriesByName('first-contentful-paint')[0].startTime,
      });
    })()`)) as string,
  ) as VisitTimes;
}

/** Every response up to the load event: its body's size as served and compressed, and Resource Timing's sizes. */
async function pageWeight(page: Page, responses: Response[]): Promise<Pick<PageFigures, 'files' | 'streams'>> {
  const timing = JSON.parse(
    (await page.evaluate(
      `JSON.stringify([...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
        .map((e) => ({ name: e.name, transferSize: e.transferSize, encodedBodySize: e.encodedBodySize })))`,
    )) as string,
  ) as Array<{ name: string; transferSize: number; encodedBodySize: number }>;
  const files: PageFile[] = [];
  const streams: string[] = [];
  for (const response of responses) {
    const headers = await response.allHeaders();
    const type = headers['content-type'] ?? '';
    // The job's event stream never ends: it is no part of the page's weight.
    if (type.startsWith('text/event-stream')) {
      streams.push(response.url());
      continue;
    }
    const body = await response.body();
    const entry = timing.find((t) => t.name === response.url());
    files.push({
      url: response.url(),
      type: type.split(';')[0]!,
      status: response.status(),
      encoding: headers['content-encoding'] ?? '',
      bytes: body.length,
      gzip: gzipSync(body, { level: 6 }).length,
      brotli: brotliCompressSync(body).length,
      ...(entry === undefined ? {} : { transferSize: entry.transferSize, encodedBodySize: entry.encodedBodySize }),
    });
  }
  return { files, streams };
}

/** The page's rows: first render against 300 ms, the weight against 150 KB compressed. */
export function pageTargets(page: PageFigures): TargetRow[] {
  const { totals } = page;
  const median = (key: keyof VisitTimes) =>
    percentile(
      page.firstVisits.map((v) => v[key]),
      50,
    );
  const served = totals.compressedByServer ? 'compressed as served' : 'served uncompressed by the bridge and the edge';
  return [
    targetRow(
      `people: console job page, first contentful paint (median of ${page.firstVisits.length} first visits)`,
      ms(page.firstVisitFcp, 0),
      page.firstVisitFcp / firstRenderLimitMs,
      '≤ 300 ms',
      (r) => r <= 1,
      `connected ${ms(median('connected'), 0)}, HTML's first byte ${ms(median('firstByte'), 0)}, last ` +
        `${ms(median('htmlDone'), 0)}, files' last ${ms(median('filesDone'), 0)}`,
    ),
    referenceRow(
      'people: console job page, first contentful paint, visited again (cached assets)',
      ms(page.againFcp, 0),
      page.againFcp / firstRenderLimitMs,
    ),
    targetRow(
      `people: console job page, HTML + ${page.files.length - 1} files, gzip`,
      kb(totals.gzip),
      totals.gzip / weightLimitBytes,
      '≤ 150 KB',
      (r) => r <= 1,
      `brotli ${kb(totals.brotli)}`,
    ),
    referenceRow(
      'people: console job page, bytes transferred to the browser',
      `${kb(totals.transferred)} (bodies ${kb(totals.bytes)})`,
      totals.transferred / weightLimitBytes,
      served,
    ),
  ];
}
