// Load generators for the bench. Each one has a budget and a timeout on every call, so a slow or
// dead target makes a short, honest report (how many answered, failed or timed out) instead of a
// hung run.
import { request as httpRequest, type Agent as HttpAgent, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import autocannon from 'autocannon';
import { callTimeoutMs, concurrency } from './knobs.js';
import { percentile } from './stats.js';

/** What one measured run saw. Latencies are milliseconds over the calls that were answered. */
export interface Run {
  planned: number;
  /** Calls that came back: the SDK call resolved or rejected with an answer, or an HTTP response. */
  answered: number;
  /** Answered as expected (resolved; the expected HTTP status). */
  ok: number;
  /** Answered otherwise, or failed without an answer (connection errors). */
  failed: number;
  timedOut: number;
  /** HTTP status counts (HTTP runs only). */
  statuses: Record<string, number>;
  /** Every planned call was made within the budget. */
  finished: boolean;
  elapsedMs: number;
  /** `ok` calls per second over the run. */
  throughput: number;
  p50: number;
  p99: number;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * `count` calls at `parallel` concurrency from this process (the SDK baselines). `call` gets the
 * deadline of its attempt and must honour it; a call that outlives it by 2 s more counts as timed out
 * anyway. No call starts after the budget.
 */
export async function loop(options: {
  count: number;
  parallel: number;
  budgetMs: number;
  timeoutMs: number;
  call: (deadline: number) => Promise<unknown>;
  isTimeout: (error: unknown) => boolean;
}): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  let timedOut = 0;
  const began = performance.now();
  const stopAt = Date.now() + options.budgetMs;
  await Promise.all(
    Array.from({ length: options.parallel }, async () => {
      while (next < options.count && Date.now() < stopAt) {
        next += 1;
        const t = performance.now();
        const deadline = Date.now() + options.timeoutMs;
        let timer: NodeJS.Timeout | undefined;
        const overdue = new Promise<'overdue'>((done) => {
          timer = setTimeout(() => done('overdue'), options.timeoutMs + 2_000);
        });
        try {
          const outcome = await Promise.race([options.call(deadline), overdue]);
          if (outcome === 'overdue') timedOut += 1;
          else latencies.push(performance.now() - t);
        } catch (error) {
          if (options.isTimeout(error)) timedOut += 1;
          else failed += 1;
        } finally {
          clearTimeout(timer);
        }
      }
    }),
  );
  const elapsedMs = performance.now() - began;
  return {
    planned: options.count,
    answered: latencies.length + failed,
    ok: latencies.length,
    failed,
    timedOut,
    statuses: {},
    finished: latencies.length + failed + timedOut >= options.count,
    elapsedMs,
    throughput: (latencies.length * 1000) / elapsedMs,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** `loop` for Temporal SDK calls at the bench's concurrency and timeout; a deadline passed is a timeout. */
export function sdkLoop(count: number, budgetMs: number, fn: (deadline: number) => Promise<unknown>): Promise<Run> {
  return loop({ count, parallel: concurrency, budgetMs, timeoutMs: callTimeoutMs, call: fn, isTimeout });
}

const isTimeout = (error: unknown) =>
  /deadline|timed? ?out|aborted/i.test(`${String(error)} ${String((error as { cause?: unknown })?.cause)}`);

/**
 * The same over HTTP through autocannon (keep-alive connections). `expect` lists the statuses that
 * count as ok. autocannon is stopped when the budget runs out, and gives up after as many errors as
 * planned requests (a dead target).
 */
export function cannon(
  options: autocannon.Options & { amount: number; budgetMs: number; expect: number[]; timeout?: number },
): Promise<Run> {
  const { budgetMs, expect, ...rest } = options;
  const began = performance.now();
  return new Promise((resolve) => {
    const budget: { timer?: NodeJS.Timeout } = {};
    const finish = (error: Error | null, result: autocannon.Result | undefined) => {
      clearTimeout(budget.timer);
      const elapsedMs = performance.now() - began;
      if (error !== null || result === undefined) {
        resolve({ ...emptyRun(rest.amount, elapsedMs), failed: rest.amount });
        return;
      }
      const statuses: Record<string, number> = {};
      for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = count ?? 0;
      const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
      const ok = expect.reduce((sum, code) => sum + (statuses[String(code)] ?? 0), 0);
      resolve({
        planned: rest.amount,
        answered,
        ok,
        failed: answered - ok + (result.errors - result.timeouts),
        timedOut: result.timeouts,
        statuses,
        finished: answered >= rest.amount,
        elapsedMs,
        throughput: (ok * 1000) / elapsedMs,
        p50: answered > 0 ? result.latency.p50 : Number.NaN,
        p99: answered > 0 ? result.latency.p99 : Number.NaN,
      });
    };
    let instance: autocannon.Instance;
    try {
      // sampleInt 10 ms: autocannon only notices the end of a run on its sampling tick (1 s by default).
      instance = autocannon(
        { connections: 16, sampleInt: 10, timeout: 10, bailout: Math.max(50, rest.amount), ...rest },
        finish,
      );
    } catch (error) {
      finish(error as Error, undefined);
      return;
    }
    budget.timer = setTimeout(() => instance.stop(), budgetMs);
  });
}

export function emptyRun(planned: number, elapsedMs = 0): Run {
  return {
    planned,
    answered: 0,
    ok: 0,
    failed: 0,
    timedOut: 0,
    statuses: {},
    finished: false,
    elapsedMs,
    throughput: 0,
    p50: Number.NaN,
    p99: Number.NaN,
  };
}

export interface Answer {
  /** HTTP status; 0 when there was none. */
  status: number;
  /** Milliseconds from sending to the response's headers (the status line). */
  ms: number;
  body: string;
  headers: IncomingHttpHeaders;
  timedOut: boolean;
  error?: string;
}

/** One HTTP(S) request with a timeout over the whole exchange; never rejects. */
export function call(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    timeoutMs: number;
    agent?: HttpAgent | HttpsAgent | false;
  },
): Promise<Answer> {
  const t = performance.now();
  const signal = AbortSignal.timeout(options.timeoutMs);
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let ms = Number.NaN;
    const request = send(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        signal,
        rejectUnauthorized: false, // the edge's self-signed certificate
        ...(options.agent === undefined ? {} : { agent: options.agent }),
      },
      (response) => {
        ms = performance.now() - t;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            ms,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: response.headers,
            timedOut: false,
          }),
        );
        response.on('error', (error) =>
          resolve({
            status: response.statusCode ?? 0,
            ms,
            body: '',
            headers: {},
            timedOut: signal.aborted,
            error: String(error),
          }),
        );
      },
    );
    request.on('error', (error) =>
      resolve({ status: 0, ms, body: '', headers: {}, timedOut: signal.aborted, error: String(error) }),
    );
    request.end(options.body);
  });
}

/** Polls `probe` until it is true or `timeoutMs` passes; says which. */
export async function until(
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await sleep(everyMs);
  }
  return probe();
}

export { sleep };
