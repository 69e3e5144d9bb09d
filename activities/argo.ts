// Argo Workflows through the Argo Server REST API (v3.5+), normally via the edge's Argo frontend.
// Submissions use a deterministic name (from the job id), so a retried submit never makes two:
// a 409 means ours already exists and is read back. Workflows carry the owner, route and job in
// labels. Errors follow Argo's gRPC codes: 400/401/403/404 cannot heal (ArgoRejected, not
// retried); 409 is handled; 429, 5xx, 504 and network errors are retried by Temporal.
// Tracing: the submit is an `argo.submit` client span, and every request to the Argo Server
// carries the active span's `traceparent`, so an Argo Server that traces joins the job's trace.
import { createHash } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { fail } from '../src/core/failures.js';
import { inSpan, traceContextHeaders } from './tracing.js';

export interface ArgoSubmit {
  namespace: string;
  jobId: string;
  route: string;
  owner: string;
  repository: string;
  sha: string;
  workflowTemplate?: string;
  entrypoint?: string;
  manifest?: Record<string, unknown>;
}

export interface ArgoOutcome {
  name: string;
  phase: string;
  progress?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface ArgoDeps {
  url: string;
  token?: { reveal(): string };
  fetchTimeoutMs: number;
}

/** DNS-1123, at most 63 characters, the same for every attempt of the same job. */
export function argoWorkflowName(jobId: string): string {
  return `gatehouse-${createHash('sha256').update(jobId).digest('hex').slice(0, 24)}`;
}

/** Label values: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric. */
export function labelValue(value: string): string {
  const cleaned = value
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return cleaned === '' ? 'unknown' : cleaned;
}

export function createArgoActivities(deps: ArgoDeps) {
  const call = async (
    method: string,
    path: string,
    owner: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    let response: Response;
    try {
      response = await fetch(`${deps.url.replace(/\/+$/, '')}${path}`, {
        method,
        signal: AbortSignal.timeout(deps.fetchTimeoutMs),
        headers: {
          ...traceContextHeaders(),
          'content-type': 'application/json',
          // The edge's Argo frontend hashes on the owner, keeping one owner's workflows on one server.
          'x-gatehouse-owner': owner,
          ...(deps.token === undefined ? {} : { authorization: `Bearer ${deps.token.reveal()}` }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw fail('ArgoUnavailable', `Argo server unreachable: ${(error as Error).message}`, { cause: error as Error });
    }
    return { status: response.status, json: parseAnswer(await response.text()) };
  };

  const failure = (what: string, status: number, json: Record<string, unknown>): Error => {
    const message = `${what}: Argo answered ${status} (code ${String(json.code)}): ${String(json.message ?? '').slice(0, 300)}`;
    return fail([400, 401, 403, 404].includes(status) ? 'ArgoRejected' : 'ArgoUnavailable', message);
  };

  const read = async (namespace: string, name: string, owner: string): Promise<ArgoOutcome> => {
    const fields = 'metadata.name,status.phase,status.progress,status.message,status.startedAt,status.finishedAt';
    const { status, json } = await call('GET', `/api/v1/workflows/${namespace}/${name}?fields=${fields}`, owner);
    if (status !== 200) throw failure(`reading ${name}`, status, json);
    const state = (json.status ?? {}) as Record<string, string | undefined>;
    return {
      name,
      phase: state.phase === undefined || state.phase === '' ? 'Pending' : state.phase,
      ...(state.progress === undefined ? {} : { progress: state.progress }),
      ...(state.message === undefined ? {} : { message: state.message }),
      ...(state.startedAt === undefined ? {} : { startedAt: state.startedAt }),
      ...(state.finishedAt === undefined ? {} : { finishedAt: state.finishedAt }),
    };
  };

  return {
    async submitArgoWorkflow(input: ArgoSubmit): Promise<ArgoOutcome> {
      const name = argoWorkflowName(input.jobId);
      const attributes = { 'gatehouse.argo.namespace': input.namespace, 'gatehouse.argo.workflow': name };
      return inSpan('argo.submit', { kind: SpanKind.CLIENT, attributes }, async (span) => {
        const outcome = await submit(input, name);
        span.setAttribute('gatehouse.argo.phase', outcome.phase);
        return outcome;
      });
    },

    async getArgoWorkflow(input: { namespace: string; name: string; owner: string }): Promise<ArgoOutcome> {
      return read(input.namespace, input.name, input.owner);
    },

    /** Stop, not terminate: Argo runs the workflow's exit handlers. */
    async stopArgoWorkflow(input: { namespace: string; name: string; owner: string }): Promise<void> {
      const { status, json } = await call(
        'PUT',
        `/api/v1/workflows/${input.namespace}/${input.name}/stop`,
        input.owner,
        {},
      );
      if (status !== 200 && status !== 404) throw failure(`stopping ${input.name}`, status, json);
    },
  };

  async function submit(input: ArgoSubmit, name: string): Promise<ArgoOutcome> {
    const labels = {
      'gatehouse.dev/owner': labelValue(input.owner),
      'gatehouse.dev/route': labelValue(input.route),
      'gatehouse.dev/job': labelValue(input.jobId),
    };
    const parameters = [`repository=${input.repository}`, `revision=${input.sha}`];
    const { status, json } =
      input.manifest === undefined
        ? await call('POST', `/api/v1/workflows/${input.namespace}/submit`, input.owner, {
            resourceKind: 'WorkflowTemplate',
            resourceName: input.workflowTemplate,
            submitOptions: {
              name,
              parameters,
              labels: Object.entries(labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(','),
              ...(input.entrypoint === undefined ? {} : { entryPoint: input.entrypoint }),
            },
          })
        : await call('POST', `/api/v1/workflows/${input.namespace}`, input.owner, {
            workflow: inlineWorkflow(
              input.manifest,
              name,
              labels,
              {
                'gatehouse.dev/owner': input.owner,
                'gatehouse.dev/job': input.jobId,
              },
              { repository: input.repository, revision: input.sha },
            ),
          });
    // 409: a previous attempt already created it; ours by its deterministic name.
    if (status === 409) return read(input.namespace, name, input.owner);
    if (status !== 200) throw failure(`submitting ${name}`, status, json);
    return read(input.namespace, name, input.owner);
  }
}

/**
 * Argo answers JSON, but what stands between may not: the edge's own 503 when no Argo server is
 * up, or a proxy's error page, is kept as the message instead of failing on the parse.
 */
function parseAnswer(text: string): Record<string, unknown> {
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  } catch {
    // not JSON: fall through
  }
  return {
    message: text
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  };
}

/**
 * An inline manifest as submitted: the operator's metadata kept, our name, labels and
 * annotations merged in (ours win), and the repository and revision set as workflow parameters
 * beside the operator's own, exactly as a template submission passes them.
 */
export function inlineWorkflow(
  manifest: Record<string, unknown>,
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string>,
  parameters: Record<string, string>,
): Record<string, unknown> {
  const metadata = (manifest.metadata ?? {}) as {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  const spec = (manifest.spec ?? {}) as { arguments?: { parameters?: Array<{ name: string; value?: string }> } };
  const own = (spec.arguments?.parameters ?? []).filter((p) => !Object.hasOwn(parameters, p.name));
  return {
    ...manifest,
    metadata: {
      ...metadata,
      name,
      labels: { ...(metadata.labels ?? {}), ...labels },
      annotations: { ...(metadata.annotations ?? {}), ...annotations },
    },
    spec: {
      ...spec,
      arguments: {
        ...(spec.arguments ?? {}),
        parameters: [...own, ...Object.entries(parameters).map(([key, value]) => ({ name: key, value }))],
      },
    },
  };
}
