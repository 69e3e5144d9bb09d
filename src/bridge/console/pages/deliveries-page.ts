// Deliveries (admins): the delivery log (GET /v1/webhooks/deliveries) with its filters and paging,
// one record with the normalized event it carried, and Replay (POST …/replay): in safe mode first,
// which the API refuses while a job of that delivery runs or after one succeeded, and with an
// explicit "force" checkbox. A person who is not an admin gets the API's 403 as a page.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { deliveryOutcomes, type DeliveryRecord } from '../../../core/deliveries.js';
import { providerNames } from '../../../providers/registry.js';
import { ApiProblem } from '../bridge-api.js';
import { json, status, time, who } from '../format.js';
import { html, type Html } from '../html.js';
import { filterSelect, pager, readListQuery } from '../list-page.js';
import type { PageKit } from '../page-kit.js';
import { problemNotice } from './error-page.js';

type Summary = Omit<DeliveryRecord, 'gitEvent'> & { replayable: boolean };
type Record = Summary & { gitEvent: unknown };

const filterNames = ['provider', 'hook', 'outcome', 'repository', 'deliveryId', 'since'] as const;

export function deliveryPages(app: FastifyInstance, kit: PageKit) {
  app.get('/deliveries', async (request, reply) => {
    const list = readListQuery(request.query, filterNames);
    const filters: { [name: string]: string | undefined } = list.filters;
    const { pageToken } = list;
    const search = new URLSearchParams({
      ...list.filters,
      pageSize: '25',
      ...(pageToken === undefined ? {} : { pageToken }),
    });
    const page = await kit.api.call<{ deliveries: Summary[]; nextPageToken: string | null }>(request, {
      url: `/v1/webhooks/deliveries?${search}`,
    });
    const { hooks } = await kit.api.call<{ hooks: HookHealth[] }>(request, { url: '/v1/webhooks/hooks' });
    const select = (name: string, label: string, options: readonly string[]) =>
      filterSelect(filters, name, label, options);
    const text = (name: string, label: string, placeholder: string) =>
      html`<label
        >${label} <input name="${name}" value="${filters[name] ?? ''}" placeholder="${placeholder}"
      /></label>`;
    return kit.send(request, reply, {
      title: 'Deliveries',
      section: 'deliveries',
      body: html`<h1>Deliveries</h1>
        <p>
          Every webhook delivery the bridges answered, newest first, and what the reconciler asked providers to send
          again.
        </p>
        ${hooksSection(hooks)}
        <h2>The log</h2>
        <details ${Object.keys(filters).length > 0 ? html`open` : ''}>
          <summary>Filter</summary>
          <form method="get" action="/ui/deliveries" class="filters">
            ${select('provider', 'Provider', providerNames)} ${text('hook', 'Hook', 'default')}
            ${select('outcome', 'Outcome', deliveryOutcomes)} ${text('repository', 'Repository', 'owner/name')}
            ${text('deliveryId', 'Delivery id', "the provider's id")} ${text('since', 'Since', '2026-01-31T00:00:00Z')}
            <button type="submit">Show</button>
          </form>
        </details>
        ${
          page.deliveries.length === 0
            ? html`<p>No deliveries${Object.keys(filters).length > 0 ? ' match these filters' : ''}.</p>`
            : html`<div class="table-wrap" role="region" aria-label="Deliveries" tabindex="0">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Record</th>
                      <th scope="col">Received</th>
                      <th scope="col">Provider and hook</th>
                      <th scope="col">Event</th>
                      <th scope="col">Repository</th>
                      <th scope="col">Outcome</th>
                      <th scope="col">Job</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${page.deliveries.map(
                      (d) =>
                        html`<tr>
                          <td data-label="Record"><a href="/ui/deliveries/${d.id}">${d.id}</a></td>
                          <td data-label="Received">${time(d.receivedAt)}</td>
                          <td data-label="Provider and hook">${d.provider} / ${d.hook}</td>
                          <td data-label="Event">${d.event ?? '—'}</td>
                          <td data-label="Repository">${d.repository ?? '—'}</td>
                          <td data-label="Outcome">${outcome(d)}</td>
                          <td data-label="Job">
                            ${d.jobId === null ? '—' : html`<a href="/ui/jobs/${d.jobId}">${d.jobId}</a>`}
                          </td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>`
        }
        ${pager('/ui/deliveries', list, page.nextPageToken)}`,
    });
  });

  const record = (request: FastifyRequest) =>
    kit.api.call<Record>(request, {
      url: `/v1/webhooks/deliveries/${encodeURIComponent((request.params as { id: string }).id)}`,
    });

  app.get('/deliveries/:id', async (request, reply) =>
    kit.send(request, reply, recordPage(request, kit, await record(request), undefined)),
  );

  app.post('/deliveries/:id/replay', async (request, reply) => {
    const form = kit.postedForm(request);
    const { id } = request.params as { id: string };
    const force = form.get('force') === 'true';
    try {
      const answer = await kit.api.call<{ jobId: string }>(request, {
        method: 'POST',
        url: `/v1/webhooks/deliveries/${encodeURIComponent(id)}/replay`,
        body: { force },
        idempotencyKey: form.get('idempotencyKey') ?? randomUUID(),
      });
      return reply.redirect(`/ui/jobs/${encodeURIComponent(answer.jobId)}`, 303);
    } catch (error) {
      // Refused (unsafe without force, not replayable): the record again, with the API's words.
      if (!(error instanceof ApiProblem) || error.status !== 409) throw error;
      return kit.send(request, reply, recordPage(request, kit, await record(request), error), 409);
    }
  });
}

interface HookHealth {
  provider: string;
  hook: string;
  path: string;
  reconciled: boolean;
  paused?: boolean;
  nextCheckAt?: string;
  openEvents?: number;
  problem?: string;
  lastCheck?: {
    startedAt: string;
    status: string;
    report?: { [name: string]: unknown };
    failure?: { message: string; type?: string };
  };
}

/** Each hook's health: the reconciler's last check, what it asked the provider for, GitLab's alert state. */
function hooksSection(hooks: HookHealth[]): Html {
  const asked = (report: { [name: string]: unknown } | undefined) => {
    if (report === undefined) return '—';
    const n = (name: string) => (typeof report[name] === 'number' ? (report[name] as number) : 0);
    return `${n('requested')} asked again, ${n('refused')} refused; ${n('examined')} examined, ${n('failed')} failed, ${n('unseen')} unseen`;
  };
  const last = (hook: HookHealth) => {
    const check = hook.lastCheck;
    if (check === undefined) return hook.problem ?? (hook.reconciled ? 'no check yet' : 'not reconciled');
    return html`${time(check.startedAt)}
    ${status(check.status)}${check.failure === undefined ? '' : html`: ${check.failure.message}`}`;
  };
  return html`<section aria-labelledby="hooks-title">
    <h2 id="hooks-title">Hooks</h2>
    <div class="table-wrap" role="region" aria-label="Hooks" tabindex="0">
      <table>
        <thead>
          <tr>
            <th scope="col">Hook</th>
            <th scope="col">Last check</th>
            <th scope="col">Asked the provider</th>
            <th scope="col">Open events</th>
            <th scope="col">GitLab alert</th>
            <th scope="col">Next check</th>
          </tr>
        </thead>
        <tbody>
          ${hooks.map(
            (hook) =>
              html`<tr>
                <td data-label="Hook">
                  ${hook.provider} / ${hook.hook} <small><code>${hook.path}</code></small>
                </td>
                <td data-label="Last check">${last(hook)}</td>
                <td data-label="Asked the provider">${asked(hook.lastCheck?.report)}</td>
                <td data-label="Open events">${hook.openEvents ?? '—'}</td>
                <td data-label="GitLab alert">
                  ${typeof hook.lastCheck?.report?.alertStatus === 'string' ? hook.lastCheck.report.alertStatus : '—'}
                </td>
                <td data-label="Next check">${hook.paused === true ? 'paused' : time(hook.nextCheckAt)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}

function outcome(d: Summary): Html {
  return html`${d.outcome}${d.reason === null ? '' : html` <small>(${d.reason})</small>`}`;
}

function recordPage(request: FastifyRequest, kit: PageKit, d: Record, refused: ApiProblem | undefined) {
  return {
    title: `Delivery ${d.id}`,
    section: 'deliveries' as const,
    body: html`<h1>Delivery <code class="wrap">${d.id}</code></h1>
      ${refused === undefined ? '' : problemNotice(refused.problem)}
      <dl class="facts">
        <dt>Received</dt>
        <dd>${time(d.receivedAt)}</dd>
        <dt>Provider and hook</dt>
        <dd>${d.provider} / ${d.hook}</dd>
        <dt>Delivery id</dt>
        <dd><code class="wrap">${d.deliveryId ?? '—'}</code></dd>
        <dt>Event</dt>
        <dd>${d.event ?? '—'}</dd>
        <dt>Repository</dt>
        <dd>${d.repository ?? '—'}</dd>
        <dt>Outcome</dt>
        <dd>${outcome(d)}${d.detail === null ? '' : html`: ${d.detail}`}</dd>
        <dt>Answered</dt>
        <dd>${d.status ?? '—'}</dd>
        <dt>Origin</dt>
        <dd>
          ${d.origin}${d.replayOf === null ? '' : html`, replay of <a href="/ui/deliveries/${d.replayOf}">${d.replayOf}</a>`}${d.requestedBy === null ? '' : html` by ${who(d.requestedBy)}`}
        </dd>
        <dt>Job</dt>
        <dd>${d.jobId === null ? 'none' : html`<a href="/ui/jobs/${d.jobId}">${d.jobId}</a>`}</dd>
      </dl>
      <section aria-labelledby="replay-title">
        <h2 id="replay-title">Replay</h2>
        ${
          d.replayable
            ? html`<p>
                  Starts the hook's route again for the event below, as a new job linked to this record. Without force
                  it is refused while a job of this delivery is running or after one succeeded.
                </p>
                <form method="post" action="/ui/deliveries/${d.id}/replay">
                  ${kit.csrfInput(request)}
                  <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
                  <label
                    ><input type="checkbox" name="force" value="true" role="switch" /> Force: run it again even if a job
                    of this delivery succeeded or is running</label
                  >
                  <button type="submit">Replay</button>
                </form>`
            : html`<p>Only a delivery whose signature verified carries an event that can be replayed.</p>`
        }
      </section>
      ${
        d.gitEvent === null
          ? ''
          : html`<section aria-labelledby="event-title">
              <h2 id="event-title">The event it carried</h2>
              <pre tabindex="0" aria-label="The normalized event as JSON"><code>${json(d.gitEvent)}</code></pre>
            </section>`
      }`,
  };
}
