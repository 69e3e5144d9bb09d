// Usage: the ledger's totals by route and by month, read through the billing-usage route (a job
// like any other: the worker that owns the ledger answers it). The form posts here; the console
// starts that job as the person (admins may name an owner, or * for everyone) and shows its answer
// at /ui/usage?job=<jobId>, a page that can be reloaded or shared without asking again.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { GatehouseError } from '../../errors.js';
import type { JobView } from '../bridge-api.js';
import { html } from '../html.js';
import type { PageKit } from '../page-kit.js';

interface Totals {
  from: string;
  to: string;
  totals: Array<{ owner: string; metric: string; quantity: number; route?: string; month?: string }>;
}

const monthPattern = /^\d{4}-(0[1-9]|1[0-2])$/;

/** `YYYY-MM` of the month `offset` months from the one `now` is in (UTC). */
export function monthOf(now: Date, offset = 0): string {
  const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
  return date.toISOString().slice(0, 7);
}

/** The period from the first day of `from` to the first day after the month `to`, as the route takes it. */
export function usagePeriod(from: string, to: string): { from: string; to: string } {
  const [year, month] = to.split('-').map(Number) as [number, number];
  return { from: `${from}-01T00:00:00.000Z`, to: new Date(Date.UTC(year, month, 1)).toISOString() };
}

/** The route that reads the ledger; a page shows only its jobs' answers as usage. */
const usageRoute = 'billing-usage';

export function usagePages(app: FastifyInstance, kit: PageKit) {
  app.get('/usage', async (request, reply) => {
    const { job } = request.query as { job?: unknown };
    const { admin } = kit.viewer(request);
    const now = new Date();
    let answer = html``;
    if (typeof job === 'string' && job !== '') {
      const view = await kit.api.call<JobView>(request, { url: `/v1/jobs/${encodeURIComponent(job)}?wait=10` });
      answer =
        view.route !== usageRoute
          ? html`<div class="notice notice-bad" role="alert">
              <strong>That job is not a usage query</strong>
            </div>`
          : view.status === 'RUNNING'
            ? html`<p data-events="/v1/jobs/${view.jobId}/events" data-final="false">
                Counting… this page updates when the ledger has answered.
              </p>`
            : view.failure !== undefined
              ? html`<div class="notice notice-bad" role="alert">
                  <strong>The usage job failed</strong>
                  <p>${view.failure.message} <small>(<code>${view.failure.type ?? 'no type'}</code>)</small></p>
                </div>`
              : totalsTable(view.result as Totals);
    }
    return kit.send(request, reply, {
      title: 'Usage',
      section: 'usage',
      body: html`<h1>Usage</h1>
        <p>Jobs and run time recorded in the usage ledger, by route and by month (UTC).</p>
        <form method="post" action="/ui/usage" class="filters">
          ${kit.csrfInput(request)}
          <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
          <label>From <input type="month" name="from" value="${monthOf(now, -11)}" required /></label>
          <label>To <input type="month" name="to" value="${monthOf(now)}" required /></label>
          ${
            admin
              ? html`<label>Owner <input name="owner" placeholder="yours; a principal, or * for everyone" /></label>`
              : ''
          }
          <button type="submit">Show usage</button>
        </form>
        ${answer}`,
    });
  });

  app.post('/usage', async (request, reply) => {
    const form = kit.postedForm(request);
    const from = form.get('from') ?? '';
    const to = form.get('to') ?? '';
    if (!monthPattern.test(from) || !monthPattern.test(to) || from > to) {
      throw new GatehouseError('GATEHOUSE_BAD_REQUEST', 'From and To must be months (YYYY-MM), From not after To');
    }
    const owner = form.get('owner')?.trim() ?? '';
    const started = await kit.api.call<{ jobId: string }>(request, {
      method: 'POST',
      url: `/v1/jobs/${usageRoute}`,
      body: { ...usagePeriod(from, to), by: ['route', 'month'], ...(owner === '' ? {} : { owner }) },
      idempotencyKey: form.get('idempotencyKey') ?? randomUUID(),
    });
    return reply.redirect(`/ui/usage?job=${encodeURIComponent(started.jobId)}`, 303);
  });
}

function totalsTable(totals: Totals) {
  const everyone = new Set(totals.totals.map((t) => t.owner)).size > 1;
  if (totals.totals.length === 0) {
    return html`<p>Nothing recorded from ${totals.from.slice(0, 10)} to ${totals.to.slice(0, 10)}.</p>`;
  }
  return html`<div class="table-wrap" role="region" aria-label="Usage totals" tabindex="0">
    <table>
      <caption>
        From ${totals.from.slice(0, 10)} to ${totals.to.slice(0, 10)} (exclusive)
      </caption>
      <thead>
        <tr>
          ${everyone ? html`<th scope="col">Owner</th>` : ''}
          <th scope="col">Month</th>
          <th scope="col">Route</th>
          <th scope="col">Metric</th>
          <th scope="col">Total</th>
        </tr>
      </thead>
      <tbody>
        ${totals.totals.map(
          (t) =>
            html`<tr>
              ${everyone ? html`<td data-label="Owner">${t.owner}</td>` : ''}
              <td data-label="Month">${t.month ?? '—'}</td>
              <td data-label="Route">${t.route ?? '—'}</td>
              <td data-label="Metric">${t.metric === 'run_seconds' ? 'run time (s)' : t.metric}</td>
              <td class="number" data-label="Total">${t.quantity}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
