// Start a job: the routes the person may call (the access module's answer, as for the API), and for
// each a form made from the route's input JSON Schema (schema-form.ts). The form posts here; the
// console sends the input to POST /v1/jobs/{route} and shows the API's own refusal beside the
// fields it points at, with what was typed kept. A hidden Idempotency-Key, made when the form is
// drawn, keeps a double submit to one job.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mayCallRoute } from '../../../core/access.js';
import type { Problem } from '../../errors.js';
import { ApiProblem } from '../bridge-api.js';
import { html, type Html } from '../html.js';
import type { PageKit } from '../page-kit.js';
import { problemNotice } from './error-page.js';
import { fieldFor, formFields, formValues, readForm, type FormError, type FormField } from '../schema-form.js';

export function startPages(app: FastifyInstance, kit: PageKit) {
  const { routes, admins } = kit.config;
  const rules = { adminGroups: admins.groups };
  const callable = (request: FastifyRequest) =>
    Object.entries(routes).filter(([, route]) => mayCallRoute(request.identity, route.access, rules));
  const fieldsOf = new Map(Object.entries(routes).map(([name, route]) => [name, formFields(route.input)]));

  app.get('/start', async (request, reply) =>
    kit.send(request, reply, {
      title: 'Start a job',
      section: 'start',
      body: html`<h1>Start a job</h1>
        <ul class="routes">
          ${callable(request).map(
            ([name, route]) =>
              html`<li>
                <a href="/ui/start/${name}"><strong>${name}</strong></a
                >${route.description === undefined ? '' : html`: ${route.description}`}
              </li>`,
          )}
        </ul>`,
    }),
  );

  /** The route's form, or the 404 of the API for a route the person may not call or that does not exist. */
  const routeFor = (request: FastifyRequest) => {
    const { route } = request.params as { route: string };
    const found = callable(request).find(([name]) => name === route);
    if (found === undefined) {
      throw new ApiProblem({
        type: 'urn:gatehouse:problem:unknown-route',
        title: 'Unknown job route',
        status: 404,
        detail: `There is no job route named "${route.slice(0, 63)}" that you may start`,
        code: 'GATEHOUSE_UNKNOWN_ROUTE',
      });
    }
    return { name: found[0], description: found[1].description, fields: fieldsOf.get(found[0])! };
  };

  app.get('/start/:route', async (request, reply) => {
    const route = routeFor(request);
    return kit.send(request, reply, startForm(request, kit, route, new Map(), undefined, []));
  });

  app.post('/start/:route', async (request, reply) => {
    const route = routeFor(request);
    const form = kit.postedForm(request);
    const values = formValues(form.entries());
    const { input, errors } = readForm(route.fields, values);
    const key = form.get('idempotencyKey') ?? randomUUID();
    if (errors.length > 0) {
      const problem: Problem = {
        type: 'urn:gatehouse:problem:malformed-body',
        title: 'The form could not be read',
        status: 400,
        detail: 'Some fields hold text that is not JSON',
        code: 'GATEHOUSE_MALFORMED_BODY',
      };
      return kit.send(request, reply, startForm(request, kit, route, values, problem, errors, key), 400);
    }
    try {
      const started = await kit.api.call<{ jobId: string }>(request, {
        method: 'POST',
        url: `/v1/jobs/${route.name}`,
        body: input,
        idempotencyKey: key,
      });
      return reply.redirect(`/ui/jobs/${encodeURIComponent(started.jobId)}`, 303);
    } catch (error) {
      if (!(error instanceof ApiProblem) || error.status >= 500) throw error;
      // The API refused the input: the same form, what was typed, and its errors by field. A new
      // key, so the corrected form is a new request rather than a reuse of this one.
      const fieldErrors = (error.problem.errors ?? []).map(({ pointer, detail }) => ({ pointer, detail }));
      return kit.send(request, reply, startForm(request, kit, route, values, error.problem, fieldErrors), error.status);
    }
  });
}

type RouteForm = { name: string; description: string | undefined; fields: FormField[] };

function startForm(
  request: FastifyRequest,
  kit: PageKit,
  route: RouteForm,
  values: ReadonlyMap<string, string>,
  problem: Problem | undefined,
  errors: FormError[],
  key: string = randomUUID(),
) {
  const byField = new Map<string, string[]>();
  for (const error of errors) {
    const target = fieldFor(route.fields, error.pointer);
    if (target !== undefined)
      byField.set(target.pointer, [...(byField.get(target.pointer) ?? []), fieldProblem(error, target)]);
  }
  return {
    title: `Start ${route.name}`,
    section: 'start' as const,
    body: html`<h1>Start <code>${route.name}</code></h1>
      ${route.description === undefined ? '' : html`<p>${route.description}</p>`}
      ${problem === undefined ? '' : problemNotice(problem)}
      ${
        errors.length === 0
          ? ''
          : html`<ul class="error-summary" aria-label="Problems">
              ${errors.map((e) => {
                const target = fieldFor(route.fields, e.pointer);
                const text = `${e.pointer === '' ? 'the input' : e.pointer} ${e.detail}`;
                return html`<li>
                  ${target === undefined ? text : html`<a href="#${fieldId(target.pointer)}">${text}</a>`}
                </li>`;
              })}
            </ul>`
      }
      <form method="post" action="/ui/start/${route.name}" novalidate>
        ${kit.csrfInput(request)}
        <input type="hidden" name="idempotencyKey" value="${key}" />
        ${route.fields.map((f) => renderField(f, values, byField))}
        <button type="submit">Start</button>
      </form>`,
  };
}

function fieldProblem(error: FormError, target: FormField): string {
  return error.pointer === target.pointer
    ? error.detail
    : `${error.pointer.slice(target.pointer.length + 1)}: ${error.detail}`;
}

/** An HTML id from a pointer: every character outside [A-Za-z0-9_-] spelled out, so ids stay unique. */
export function fieldId(pointer: string): string {
  return `field${pointer.replace(/[^A-Za-z0-9_-]/g, (c) => `.${c.charCodeAt(0).toString(16)}`)}`;
}

function renderField(f: FormField, values: ReadonlyMap<string, string>, errors: Map<string, string[]>): Html {
  const id = fieldId(f.pointer);
  const problems = errors.get(f.pointer) ?? [];
  const hint =
    f.kind === 'text' && f.format === 'date-time' ? 'An RFC 3339 time, such as 2026-01-31T09:00:00Z' : f.description;
  const describedBy = [hint === undefined ? '' : `${id}-hint`, problems.length === 0 ? '' : `${id}-error`]
    .filter(Boolean)
    .join(' ');
  const label = html`${f.label}${f.required ? html` <small>(required)</small>` : ''}`;
  const hintText = hint === undefined ? '' : html`<small id="${id}-hint">${hint}</small>`;
  const errorText =
    problems.length === 0 ? '' : html`<small id="${id}-error" class="field-error">${problems.join('; ')}</small>`;
  const common = html`id="${id}" name="${f.pointer}"
  ${describedBy === '' ? '' : html`aria-describedby="${describedBy}"`} ${f.required ? html`aria-required="true"` : ''}
  ${problems.length > 0 ? html`aria-invalid="true"` : ''}`;
  const value = values.get(f.pointer) ?? '';
  switch (f.kind) {
    case 'group':
      return html`<fieldset id="${id}" ${problems.length > 0 ? html`aria-describedby="${id}-error"` : ''}>
        <legend>${label}</legend>
        ${hint === undefined ? '' : html`<p><small>${hint}</small></p>`} ${errorText}
        ${f.fields.map((inner) => renderField(inner, values, errors))}
      </fieldset>`;
    case 'choice':
      return html`<label for="${id}">${label}</label>
        <select ${common}>
          <option value="">${f.required ? 'choose one' : 'none'}</option>
          ${f.options.map((o) => html`<option value="${o.value}" ${o.value === value ? html`selected` : ''}>${o.label}</option>`)}
        </select>
        ${hintText} ${errorText}`;
    case 'json':
      return html`<label for="${id}">${label} <small>(JSON)</small></label>
        <textarea ${common} rows="4" spellcheck="false">${value}</textarea>
        ${hintText} ${errorText}`;
    case 'number':
      return html`<label for="${id}">${label}</label>
        <input ${common} type="text" inputmode="${f.integer ? 'numeric' : 'decimal'}" value="${value}" />
        ${hintText} ${errorText}`;
    case 'text':
      return html`<label for="${id}">${label}</label>
        <input ${common} type="text" value="${value}" autocomplete="off" spellcheck="false" />
        ${hintText} ${errorText}`;
  }
}
