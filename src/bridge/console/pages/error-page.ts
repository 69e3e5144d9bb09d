// An error as a page: what the API (or the console) answered, in words, with the code and the
// request id an operator searches the logs for. A job you may not see is this page with 404.
import type { Problem } from '../../errors.js';
import { html, type Html } from '../html.js';
import type { Section } from '../layout.js';

export function errorPage(problem: Problem, requestId: string): { title: string; section: Section; body: Html } {
  return {
    title: problem.title,
    section: 'none',
    body: html`<h1>${problem.title}</h1>
      <p>${problem.detail}</p>
      <p>
        <small>${problem.status} · <code>${problem.code}</code> · request <code>${requestId}</code></small>
      </p>
      <p><a href="/ui/jobs">Back to your jobs</a></p>`,
  };
}

/** A refusal shown inside a page (a form sent back): the API's words, announced to screen readers. */
export function problemNotice(problem: Problem): Html {
  return html`<div class="notice notice-bad" role="alert">
    <strong>${problem.title}</strong>
    <p>${problem.detail} <small>(<code>${problem.code}</code>)</small></p>
  </div>`;
}
