// A job: what GET /v1/jobs/{jobId} answers, the request it came from (its memo), the job it reruns
// and its reruns, its progress live (console.js follows GET /v1/jobs/{jobId}/events: CI phases and
// steps, the Argo Workflow's phase with a link into Argo's UI), and Cancel and Run again, each a
// POST form with the session's CSRF token. A job the person may not see is the API's 404.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { progressWorkflowTypes } from '../../../core/ci-status.js';
import type { JobSummary, JobView, MemoLinks } from '../bridge-api.js';
import { duration, json, status, time, who } from '../format.js';
import { html, type Html } from '../html.js';
import type { PageKit } from '../page-kit.js';

const notices: Record<string, string> = {
  'cancel-requested': 'Cancellation requested: the job winds down and its status changes here when it has.',
  canceled: 'The job was already cancelled.',
};

export function jobPages(app: FastifyInstance, kit: PageKit) {
  const { api } = kit;
  const { signIn } = kit.config;

  app.get('/jobs/:jobId', async (request, reply) => {
    const { jobId } = request.params as { jobId: string };
    const job = await api.call<JobView>(request, { url: `/v1/jobs/${encodeURIComponent(jobId)}` });
    const links = await api.memo(jobId);
    const reruns = await rerunsOf(request, kit, jobId);
    const asked = String((request.query as { notice?: unknown }).notice);
    const notice = Object.hasOwn(notices, asked) ? notices[asked] : undefined;
    return kit.send(request, reply, {
      title: `Job ${jobId}`,
      section: 'jobs',
      body: html`<h1>Job <code class="wrap">${jobId}</code></h1>
        ${notice === undefined ? '' : html`<div class="notice" role="status">${notice}</div>`}
        <p class="job-status">Status: ${status(job.status)}</p>
        ${actions(request, kit, job)}
        <dl class="facts">
          <dt>Route</dt>
          <dd>${job.route} <small>(${job.workflowType})</small></dd>
          <dt>Owner</dt>
          <dd>${who(job.owner)}</dd>
          <dt>Started</dt>
          <dd>${time(job.startedAt)}</dd>
          <dt>Closed</dt>
          <dd>
            ${job.closedAt === undefined ? 'not yet' : html`${time(job.closedAt)} (took ${duration(job.startedAt, job.closedAt)})`}
          </dd>
          ${
            links?.rerunOf === undefined
              ? ''
              : html`<dt>Runs again</dt>
                  <dd><a href="/ui/jobs/${links.rerunOf.jobId}">${links.rerunOf.jobId}</a></dd>`
          }
          ${
            reruns.length === 0
              ? ''
              : html`<dt>Run again as</dt>
                  <dd>
                    <ul class="plain">
                      ${reruns.map((r) => html`<li><a href="/ui/jobs/${r.jobId}">${r.jobId}</a> ${status(r.status)}</li>`)}
                    </ul>
                  </dd>`
          }
        </dl>
        ${links === undefined ? '' : origin(links, kit.viewer(request).admin, signIn?.console.traceUrl)}
        ${
          progressWorkflowTypes.includes(job.workflowType)
            ? html`<section aria-labelledby="progress-title">
                <h2 id="progress-title">Progress</h2>
                <ol
                  id="progress"
                  class="progress"
                  data-events="/v1/jobs/${jobId}/events"
                  data-argo-url="${signIn?.console.argoUrl ?? ''}"
                  data-final="${job.status !== 'RUNNING'}"
                ></ol>
                <noscript><p>The phases and steps appear here as they run when JavaScript is on.</p></noscript>
              </section>`
            : // No progress log: the stream still carries the status, live.
              html`<div data-events="/v1/jobs/${jobId}/events" data-final="${job.status !== 'RUNNING'}"></div>`
        }
        ${outcome(job)}`,
    });
  });

  app.post('/jobs/:jobId/cancel', async (request, reply) => {
    const { jobId } = request.params as { jobId: string };
    kit.postedForm(request);
    const answer = await api.call<{ status: string }>(request, {
      method: 'POST',
      url: `/v1/jobs/${encodeURIComponent(jobId)}/cancel`,
    });
    const notice = answer.status === 'CANCELED' ? 'canceled' : 'cancel-requested';
    return reply.redirect(`/ui/jobs/${encodeURIComponent(jobId)}?notice=${notice}`, 303);
  });

  app.post('/jobs/:jobId/rerun', async (request, reply) => {
    const { jobId } = request.params as { jobId: string };
    const form = kit.postedForm(request);
    const key = form.get('idempotencyKey');
    const started = await api.call<{ jobId: string }>(request, {
      method: 'POST',
      url: `/v1/jobs/${encodeURIComponent(jobId)}/rerun`,
      ...(key === null || key === '' ? {} : { idempotencyKey: key }),
    });
    return reply.redirect(`/ui/jobs/${encodeURIComponent(started.jobId)}`, 303);
  });
}

/** The job's reruns the person may see: their own, and for admins everyone's. */
async function rerunsOf(request: FastifyRequest, kit: PageKit, jobId: string): Promise<JobSummary[]> {
  const search = new URLSearchParams({ rerunOf: jobId, pageSize: '20' });
  if (kit.viewer(request).admin) search.set('owner', '*');
  return (await kit.api.call<{ jobs: JobSummary[] }>(request, { url: `/v1/jobs?${search}` })).jobs;
}

function actions(request: FastifyRequest, kit: PageKit, job: JobView): Html {
  const cancel =
    job.status === 'RUNNING'
      ? html`<form method="post" action="/ui/jobs/${job.jobId}/cancel">
          ${kit.csrfInput(request)}
          <button type="submit" class="secondary">Cancel</button>
        </form>`
      : '';
  // A webhook's job is run again by replaying its delivery (admins, on the delivery's page); an
  // API job only by its owner, as a rerun runs with the rights of whoever asks for it.
  const rerun =
    job.source === 'api' && job.owner === kit.viewer(request).identity?.principal
      ? html`<form method="post" action="/ui/jobs/${job.jobId}/rerun">
          ${kit.csrfInput(request)}
          <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
          <button type="submit">Run again</button>
        </form>`
      : '';
  return html`<div class="actions" role="group" aria-label="Actions">${cancel}${rerun}</div>`;
}

/** The request the job came from: who, when, through which door, and its trace. */
function origin(links: MemoLinks, admin: boolean, traceUrl: string | undefined): Html {
  const { identity, request } = links.memo;
  const person =
    identity.method === 'webhook'
      ? html`${identity.provider} sender ${identity.login ?? identity.subject} <small>(hook ${identity.hook})</small>`
      : html`${identity.name ?? identity.subject}${identity.email === undefined ? '' : html` &lt;${identity.email}&gt;`}`;
  const delivery =
    identity.method === 'webhook' && request.idempotencyKey !== undefined
      ? html`<dt>Delivery</dt>
          <dd>
            ${
              admin
                ? html`<a href="/ui/deliveries?deliveryId=${encodeURIComponent(request.idempotencyKey)}"
                    >${request.idempotencyKey}</a
                  >`
                : request.idempotencyKey
            }
          </dd>`
      : '';
  const trace =
    request.traceId === undefined
      ? ''
      : html`<dt>Trace</dt>
          <dd>
            ${
              traceUrl === undefined
                ? html`<code>${request.traceId}</code>`
                : html`<a href="${traceUrl.replace('{traceId}', request.traceId)}"><code>${request.traceId}</code></a>`
            }
          </dd>`;
  return html`<section aria-labelledby="origin-title">
    <h2 id="origin-title">Where it came from</h2>
    <dl class="facts">
      <dt>Asked by</dt>
      <dd>${person} <small>(${identity.principal})</small></dd>
      <dt>Received</dt>
      <dd>${time(request.receivedAt)}</dd>
      ${delivery}
      ${
        links.replayOf === undefined
          ? ''
          : html`<dt>Replay of</dt>
              <dd>
                ${admin ? html`<a href="/ui/deliveries/${links.replayOf.record}">record ${links.replayOf.record}</a>` : links.replayOf.record},
                asked by ${who(links.replayOf.requestedBy)}
              </dd>`
      }
      <dt>Request id</dt>
      <dd><code>${request.requestId}</code></dd>
      ${trace}
      ${
        request.idempotencyKey === undefined || identity.method === 'webhook'
          ? ''
          : html`<dt>Idempotency key</dt>
              <dd><code class="wrap">${request.idempotencyKey}</code></dd>`
      }
    </dl>
  </section>`;
}

function outcome(job: JobView): Html {
  if (job.failure !== undefined) {
    return html`<section aria-labelledby="outcome-title">
      <h2 id="outcome-title">Failure</h2>
      <dl class="facts">
        <dt>Type</dt>
        <dd><code>${job.failure.type ?? 'none'}</code></dd>
        <dt>Message</dt>
        <dd>${job.failure.message}</dd>
      </dl>
    </section>`;
  }
  if (job.result === undefined) return html``;
  return html`<section aria-labelledby="outcome-title">
    <h2 id="outcome-title">Result</h2>
    <pre tabindex="0" aria-label="The result as JSON"><code>${json(job.result)}</code></pre>
  </section>`;
}
