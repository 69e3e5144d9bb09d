// Jobs: the person's jobs, newest first (GET /v1/jobs), filtered by route, status, source and
// repository and paged with the API's token; admins may name another owner, or everyone (`*`).
// The filters are a GET form, so a filtered list is a link one can share or bookmark.
import type { FastifyInstance } from 'fastify';
import { jobStatuses } from '../../../core/job-status.js';
import { providerNames } from '../../../providers/registry.js';
import type { JobSummary } from '../bridge-api.js';
import { duration, status, time, who } from '../format.js';
import { html } from '../html.js';
import { filterSelect, pager, readListQuery } from '../list-page.js';
import type { PageKit } from '../page-kit.js';

const filterNames = ['route', 'status', 'source', 'repository', 'owner'] as const;

export function jobsPage(app: FastifyInstance, kit: PageKit) {
  app.get('/jobs', async (request, reply) => {
    const list = readListQuery(request.query, filterNames);
    const { filters, pageToken } = list;
    const search = new URLSearchParams({ ...filters, ...(pageToken === undefined ? {} : { pageToken }) });
    const page = await kit.api.call<{ jobs: JobSummary[]; nextPageToken: string | null }>(request, {
      url: `/v1/jobs?${search}`,
    });
    const { admin } = kit.viewer(request);
    const routes = Object.keys(kit.config.routes);
    const select = (name: (typeof filterNames)[number], label: string, options: readonly string[]) =>
      filterSelect(filters, name, label, options);
    const title = filters.owner === '*' ? "Everyone's jobs" : filters.owner === undefined ? 'Your jobs' : 'Jobs';
    return kit.send(request, reply, {
      title,
      section: 'jobs',
      body: html`<h1>${title}</h1>
        ${filters.owner !== undefined && filters.owner !== '*' ? html`<p>Owner: ${who(filters.owner)}</p>` : ''}
        <details ${Object.keys(filters).length > 0 ? html`open` : ''}>
          <summary>Filter</summary>
          <form method="get" action="/ui/jobs" class="filters">
            ${select('route', 'Route', routes)} ${select('status', 'Status', jobStatuses)}
            ${select('source', 'Source', ['api', ...providerNames])}
            <label
              >Repository <input name="repository" value="${filters.repository ?? ''}" placeholder="owner/name"
            /></label>
            ${
              admin
                ? html`<label
                    >Owner
                    <input
                      name="owner"
                      value="${filters.owner ?? ''}"
                      placeholder="a principal, or * for everyone"
                      aria-describedby="owner-hint"
                    />
                    <small id="owner-hint"
                      >Admins: a principal such as jwt:https://idp.example#alice, or * for everyone's jobs</small
                    ></label
                  >`
                : ''
            }
            <button type="submit">Show</button>
          </form>
        </details>
        ${
          page.jobs.length === 0
            ? html`<p>
                No jobs${Object.keys(filters).length > 0 ? ' match these filters' : ' yet'}.
                <a href="/ui/start">Start one</a>.
              </p>`
            : html`<div class="table-wrap" role="region" aria-label="${title}" tabindex="0">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Job</th>
                      <th scope="col">Route</th>
                      <th scope="col">Status</th>
                      <th scope="col">Started by</th>
                      <th scope="col">Started</th>
                      <th scope="col">Took</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${page.jobs.map(
                      (job) =>
                        html`<tr>
                          <td data-label="Job"><a href="/ui/jobs/${job.jobId}">${job.jobId}</a></td>
                          <td data-label="Route">${job.route}</td>
                          <td data-label="Status">${status(job.status)}</td>
                          <td data-label="Started by">
                            ${who(job.owner)}${job.source === 'api' ? '' : html` <small>(${job.source})</small>`}
                          </td>
                          <td data-label="Started">${time(job.startedAt)}</td>
                          <td data-label="Took">
                            ${job.status === 'RUNNING' ? 'running' : duration(job.startedAt, job.closedAt)}
                          </td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
              </div>`
        }
        ${pager('/ui/jobs', list, page.nextPageToken)}`,
    });
  });
}
