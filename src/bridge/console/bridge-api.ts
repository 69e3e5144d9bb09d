// The console's one door into the bridge. Pages ask the JSON API itself, in process
// (`app.inject`), as the signed-in person: the same authentication, access module, validation,
// job and delivery services and problem+json errors as a client of the API gets, so what the
// console allows and says cannot drift from the API. The person's own credentials travel with each
// call (the session cookie, or a bearer token), with the same-origin headers the edge and the
// bridge already checked on the outer request, the client's address, the request id and the trace.
//
// Beside the API, one read of Temporal: a job's memo (who asked, from which request, what it
// reruns), only after the API has let the person see that job. Any reach into src/bridge/jobs or
// src/bridge/webhooks the console ever needs belongs in this file, and nowhere else.
import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller } from '../../core/access.js';
import { isAdmin } from '../../core/access.js';
import type { JobMemo } from '../../core/identity.js';
import { GatehouseError, toProblem, type Problem } from '../errors.js';
import type { JobView } from '../../core/job-view.js';

/** A row of GET /v1/jobs: the job's view without its outcome. */
export type JobSummary = JobView;
export type { JobView };
import { readMemo } from '../../core/job-memo.js';

/** What the API answered when it refused: its problem, thrown so a page can render or catch it. */
export class ApiProblem extends Error {
  override readonly name = 'ApiProblem';
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
  get status(): number {
    return this.problem.status;
  }
}

/** The request headers an API call inherits from the person's request. */
const inherited = ['cookie', 'authorization', 'sec-fetch-site', 'origin', 'user-agent', 'traceparent'] as const;

export interface ApiCall {
  method?: 'GET' | 'POST';
  url: string;
  body?: unknown;
  idempotencyKey?: string;
}

export interface MemoLinks {
  memo: JobMemo;
  rerunOf?: { jobId: string; runId: string; requestedBy: string };
  replayOf?: { record: string; jobId: string | null; requestedBy: string };
}

export interface BridgeApi {
  /** Calls the API as the person behind `request`: the answer's body on 2xx, else ApiProblem. */
  call<T>(request: FastifyRequest, call: ApiCall): Promise<T>;
  /** A job's memo and links; call only once the API has answered a read of the job for this person. */
  memo(jobId: string): Promise<MemoLinks | undefined>;
  isAdmin(caller: Caller): boolean;
}

export function createBridgeApi(app: FastifyInstance): BridgeApi {
  return {
    async call<T>(request: FastifyRequest, call: ApiCall): Promise<T> {
      // Ids from a page's URL go into these paths; a '.' or '..' segment would be resolved by the
      // in-process request's URL parser into another API path. No API path has one.
      if (hasDotSegment(call.url)) {
        throw new ApiProblem(
          toProblem(new GatehouseError('GATEHOUSE_NOT_FOUND', 'There is nothing at this address'), request.id),
        );
      }
      const headers: Record<string, string> = { 'x-request-id': request.id };
      for (const name of inherited) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      if (call.idempotencyKey !== undefined) headers['idempotency-key'] = call.idempotencyKey;
      if (call.body !== undefined) headers['content-type'] = 'application/json';
      const answer = await app.inject({
        method: call.method ?? 'GET',
        url: call.url,
        headers,
        remoteAddress: request.ip,
        ...(call.body === undefined ? {} : { payload: JSON.stringify(call.body) }),
      });
      const body = readJson(answer.body);
      if (answer.statusCode >= 400) {
        // Every API error is problem+json; anything else (a proxy's text) is still shown as one.
        const problem = isProblem(body) ? body : unreadable(answer.statusCode, request.id);
        throw new ApiProblem(problem);
      }
      return body as T;
    },
    async memo(jobId) {
      let raw: Record<string, unknown>;
      try {
        raw = (await app.temporal.call((client) => client.workflow.getHandle(jobId).describe())).memo ?? {};
      } catch (error) {
        // Gone since the API read it (retention): the page shows the job without its origin.
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      }
      const memo = readMemo(raw);
      if (memo === undefined) return undefined;
      return {
        memo,
        ...(isLink(raw.rerunOf) ? { rerunOf: raw.rerunOf as MemoLinks['rerunOf'] & object } : {}),
        ...(isLink(raw.replayOf) ? { replayOf: raw.replayOf as MemoLinks['replayOf'] & object } : {}),
      };
    },
    isAdmin: (caller) => isAdmin(caller, app.jobs.rules),
  };
}

/** Whether the path holds a '.' or '..' segment, plain or percent-encoded. */
export function hasDotSegment(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return path.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment));
}

function readJson(text: string): unknown {
  try {
    return text === '' ? null : (JSON.parse(text) as unknown);
  } catch {
    return text;
  }
}

function isProblem(body: unknown): body is Problem {
  return typeof body === 'object' && body !== null && typeof (body as Problem).code === 'string';
}

function unreadable(status: number, requestId: string): Problem {
  return {
    type: 'urn:gatehouse:problem:internal',
    title: 'Something went wrong',
    status,
    detail: 'The API answered in a way the console cannot read; the request id identifies it in the logs',
    code: 'GATEHOUSE_INTERNAL',
    requestId,
  };
}

function isLink(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'requestedBy' in value;
}
