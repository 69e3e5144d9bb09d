// Following a job's events (GET /v1/jobs/{jobId}/events, Server-Sent Events) until its final
// state. The stream's ids are positions in the run's log, so after a dropped connection the
// command reconnects with Last-Event-ID and gets exactly what came after, nothing twice.
import type { Session } from './session.js';
import { problemError } from './session.js';
import { CliError, exitCodes } from './errors.js';

export interface JobEvent {
  id: string | undefined;
  event: string;
  data: Record<string, unknown>;
}

/** Parses SSE bytes as they arrive (WHATWG rules: field lines, comments, a blank line ends an event). */
async function* parse(body: ReadableStream<Uint8Array>): AsyncGenerator<JobEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: { id?: string; event?: string; data: string[] } = { data: [] };
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r?\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1);
      if (line === '') {
        if (event.data.length > 0)
          yield {
            id: event.id,
            event: event.event ?? 'message',
            data: JSON.parse(event.data.join('\n')) as Record<string, unknown>,
          };
        event = { data: [] };
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') event.id = value;
        else if (field === 'event') event.event = value;
        else if (field === 'data') event.data.push(value);
      }
    }
  }
}

/** Yields the job's events until `end`; reconnects (a few times) when the stream breaks early. */
export async function* followJob(session: Session, jobId: string): AsyncGenerator<JobEvent> {
  let lastId: string | undefined;
  for (let attempt = 0; ; attempt += 1) {
    const response = await session.fetch(
      `${session.profile.url.replace(/\/+$/, '')}/v1/jobs/${encodeURIComponent(jobId)}/events`,
      {
        headers: {
          accept: 'text/event-stream',
          authorization: `Bearer ${await session.token()}`,
          ...(lastId === undefined ? {} : { 'last-event-id': lastId }),
        },
      },
    );
    if (response.status === 204) return;
    if (!response.ok || response.body === null) {
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      throw problemError(response, body);
    }
    try {
      for await (const event of parse(response.body)) {
        if (event.id !== undefined) lastId = event.id;
        yield event;
        if (event.event === 'end') return;
      }
    } catch (error) {
      if (error instanceof SyntaxError)
        throw new CliError('GATEHOUSE_CLI_UNEXPECTED_ANSWER', 'Unreadable event', error.message, exitCodes.unreachable);
      if (attempt >= 5) throw error;
      continue;
    }
    if (attempt >= 5)
      throw new CliError(
        'GATEHOUSE_CLI_STREAM_ENDED',
        'The event stream kept ending early',
        `job ${jobId}`,
        exitCodes.unreachable,
      );
  }
}

/** One line for a person: the job started, a CI phase, a step, an Argo workflow's phase. */
export function describeEvent(event: JobEvent): string | undefined {
  const d = event.data;
  switch (event.event) {
    case 'status':
      return d.status === 'RUNNING' ? `started ${String(d.jobId)} (${String(d.route)})` : undefined;
    case 'phase':
      return `phase ${String(d.phase)}`;
    case 'step': {
      const notes = [
        ...(d.state === 'failed' && typeof d.exitCode === 'number' ? [`exit ${d.exitCode}`] : []),
        ...(d.attempt !== undefined && Number(d.attempt) > 1 ? [`attempt ${String(d.attempt)}`] : []),
      ];
      return `step ${Number(d.index) + 1} ${String(d.name)}: ${String(d.state)}${notes.length === 0 ? '' : ` (${notes.join(', ')})`}`;
    }
    case 'argo':
      return `argo ${String(d.name)}: ${String(d.phase)}${d.progress === undefined ? '' : ` ${String(d.progress)}`}${d.message === undefined ? '' : ` ${String(d.message)}`}`;
    default:
      return undefined;
  }
}
