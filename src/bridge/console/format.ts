// How the console writes times, durations, people and statuses: plain text a screen reader reads
// well, with the machine form in <time datetime>. Pure.
import { html, type Html } from './html.js';

/** `2026-12-07 15:04:01 UTC`, in a <time> element (console.js shows it in the reader's zone). */
export function time(iso: string | undefined): Html | string {
  if (iso === undefined || iso === '') return '—';
  const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
  return html`<time datetime="${iso}">${text}</time>`;
}

/** `1 h 2 min`, `3 min 4 s`, `5.2 s`: how long from `from` to `to` (or now, for a running job). */
export function duration(from: string, to: string | undefined, now = Date.now()): string {
  const ms = (to === undefined ? now : Date.parse(to)) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/**
 * A principal as a person reads it: a token's subject (`jwt:<issuer>#<sub>`), or a Git sender
 * (`webhook:<provider>:<id>`) as `github sender 1234`. The whole principal is the title.
 */
export function who(principal: string): Html {
  const jwt = /^jwt:.*#(.+)$/.exec(principal);
  const webhook = /^webhook:([^:]+):(.+)$/.exec(principal);
  const text = jwt !== null ? jwt[1]! : webhook !== null ? `${webhook[1]} sender ${webhook[2]}` : principal;
  return html`<span title="${principal}">${text}</span>`;
}

const statusTone: Record<string, string> = {
  RUNNING: 'running',
  COMPLETED: 'ok',
  FAILED: 'bad',
  TIMED_OUT: 'bad',
  TERMINATED: 'bad',
  CANCELED: 'muted',
};

/** A status as a labelled badge: the word itself carries the meaning, colour only repeats it. */
export function status(value: string): Html {
  return html`<span class="status status-${statusTone[value] ?? 'muted'}" data-status>${value}</span>`;
}

/** JSON for a <pre>: indented, and bounded so a huge result cannot make a huge page. */
export function json(value: unknown, max = 20_000): string {
  const text = JSON.stringify(value, null, 2) ?? 'null';
  return text.length > max
    ? `${text.slice(0, max)}\n… (${text.length - max} more characters; read it from the API)`
    : text;
}
