// A Server-Sent Events client for tests, over HTTP (a bridge) or HTTPS (the edge, self-signed):
// it parses events as the bytes arrive (the WHATWG rules: `field: value` lines, `:` comments, a
// blank line ends an event) and notes when each arrived, so a test can tell a live stream from a
// buffered one, and await conditions on what has arrived instead of sleeping.
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Client } from '@temporalio/client';
import { vi } from 'vitest';

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
  /** performance.now() when its blank line arrived. */
  at: number;
  json<T = Record<string, unknown>>(): T;
}

export interface SseStream {
  status: number;
  headers: IncomingMessage['headers'];
  /** The body when the answer is not a stream (a problem, a 204). */
  body: string;
  events: SseEvent[];
  /** Comment lines (heartbeats), with when they arrived. */
  comments: Array<{ text: string; at: number }>;
  /** Every `retry` value the server sent, in order. */
  retries: number[];
  /** Resolves when the server ends the response (or the connection breaks). */
  ended: Promise<void>;
  endedCleanly: () => boolean;
  /** Waits until `count` events match (default 1) and answers the last of them. */
  waitFor(match: (event: SseEvent) => boolean, options?: { count?: number; timeout?: number }): Promise<SseEvent>;
  close(): void;
}

export function openStream(options: {
  url: string;
  token?: string;
  lastEventId?: string;
  headers?: Record<string, string>;
}): Promise<SseStream> {
  const url = new URL(options.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        headers: {
          accept: 'text/event-stream',
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...(options.lastEventId === undefined ? {} : { 'last-event-id': options.lastEventId }),
          ...options.headers,
        },
        rejectUnauthorized: false,
        agent: false,
      },
      (response) => {
        const events: SseEvent[] = [];
        const comments: SseStream['comments'] = [];
        const retries: number[] = [];
        let body = '';
        let buffer = '';
        let current: { id?: string; event?: string; data: string[] } = { data: [] };
        let lastId: string | undefined;
        let clean = false;
        const isStream = String(response.headers['content-type']).startsWith('text/event-stream');
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (!isStream) {
            body += chunk;
            return;
          }
          buffer += chunk;
          let newline: number;
          while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
            const at = performance.now();
            if (line === '') {
              if (current.id !== undefined) lastId = current.id;
              if (current.data.length > 0) {
                const data = current.data.join('\n');
                events.push({
                  id: current.id ?? lastId,
                  event: current.event ?? 'message',
                  data,
                  at,
                  json: <T>() => JSON.parse(data) as T,
                });
              }
              current = { data: [] };
              continue;
            }
            if (line.startsWith(':')) {
              comments.push({ text: line.slice(1).trim(), at });
              continue;
            }
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'data') current.data.push(value);
            else if (field === 'event') current.event = value;
            else if (field === 'id') current.id = value;
            else if (field === 'retry' && /^[0-9]+$/.test(value)) retries.push(Number(value));
          }
        });
        const ended = new Promise<void>((done) => {
          response.on('end', () => {
            clean = true;
            done();
          });
          response.on('close', () => done());
          response.on('error', () => done());
        });
        const stream: SseStream = {
          status: response.statusCode ?? 0,
          headers: response.headers,
          get body() {
            return body;
          },
          events,
          comments,
          retries,
          ended,
          endedCleanly: () => clean,
          async waitFor(match, { count = 1, timeout = 20_000 } = {}) {
            await vi.waitFor(
              () => {
                if (events.filter(match).length < count) throw new Error(`waiting for ${count} matching events`);
              },
              { timeout, interval: 20 },
            );
            return events.filter(match)[count - 1]!;
          },
          close() {
            request.destroy();
          },
        };
        resolve(stream);
      },
    );
    request.on('error', reject);
    request.end();
  });
}

/**
 * A job that stays RUNNING until the test ends it: a policyCheck workflow with a Gatehouse memo
 * (owned by `principal`) on a task queue no worker polls. Terminate or cancel it to close it.
 */
export async function startIdleJob(client: Client, principal: string): Promise<string> {
  const jobId = `policy-check.idle${randomUUID().replaceAll('-', '')}`;
  await client.workflow.start('policyCheck', {
    workflowId: jobId,
    taskQueue: `gatehouse-nobody-${randomUUID()}`,
    args: [{ jobId, route: 'policy-check', input: {}, identity: { principal } }],
    memo: {
      identity: { method: 'jwt', principal, subject: principal, issuer: 'test', groups: [], roles: [], scopes: [] },
      request: {
        requestId: randomUUID(),
        route: 'policy-check',
        receivedAt: new Date().toISOString(),
        clientAddress: '127.0.0.1',
        bodySha256: '0'.repeat(64),
      },
    },
  });
  return jobId;
}
