// A local Argo-compatible server for the tests: the Argo Server REST API's paths, bodies and
// error shapes ({code, message} with gRPC codes), manifest validation (an entrypoint must name a
// template), WorkflowTemplates, and workflows that move Pending → Running → Succeeded/Failed.
// A template or manifest annotated `fake.argo/outcome: Failed` fails; failNext(n) answers 503.
// `requests` keeps each API call's method, path and trace context header, and the identity
// headers that reached it (Authorization, Cookie, X-Auth-*, X-Forwarded-*), so the edge tests can
// check exactly what a person's request carried. `accept` replaces the single-token check (a
// ServiceAccount token per namespace, as Kubernetes RBAC would decide).
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface FakeWorkflow {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** Inline submissions: what Argo would store. */
  annotations?: Record<string, string>;
  parameters?: Array<{ name: string; value?: string }>;
  templates: string[];
  outcome: 'Succeeded' | 'Failed';
  phase: string;
  progress: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  stopped: boolean;
}

export interface FakeArgo {
  url: string;
  workflows: Map<string, FakeWorkflow>;
  requests: Array<{
    method: string;
    path: string;
    traceparent?: string;
    headers: Record<string, string | string[] | undefined>;
    bodyBytes: number;
    /** Order of arrival across every fake Argo in the process. */
    seq: number;
  }>;
  failNext(count: number): void;
  close(): Promise<void>;
}

let arrivals = 0;

export async function startFakeArgo(options: {
  token: string;
  /** Whether this Authorization may act in this namespace (default: exactly `Bearer <token>`). */
  accept?: (authorization: string | undefined, namespace: string | undefined) => boolean;
  /** host:port to listen on (default: a free loopback port). */
  listen?: { host: string; port: number };
  runMs: number;
  templates: Record<string, { templates: string[]; outcome?: 'Succeeded' | 'Failed' }>;
}): Promise<FakeArgo> {
  const workflows = new Map<string, FakeWorkflow>();
  const requests: FakeArgo['requests'] = [];
  let failures = 0;
  const advance = (wf: FakeWorkflow) => {
    setTimeout(() => {
      if (!wf.stopped)
        Object.assign(wf, {
          phase: 'Running',
          progress: `0/${wf.templates.length}`,
          startedAt: new Date().toISOString(),
        });
    }, 200);
    setTimeout(() => {
      if (wf.stopped) return;
      Object.assign(wf, {
        phase: wf.outcome,
        progress: `${wf.outcome === 'Succeeded' ? wf.templates.length : 0}/${wf.templates.length}`,
        finishedAt: new Date().toISOString(),
        ...(wf.outcome === 'Failed' ? { message: 'child step exited with code 1' } : {}),
      });
    }, 200 + options.runMs);
  };
  const create = (
    namespace: string,
    name: string,
    labels: Record<string, string>,
    templates: string[],
    outcome: FakeWorkflow['outcome'],
  ) => {
    const key = `${namespace}/${name}`;
    if (workflows.has(key))
      return { status: 409, body: { code: 6, message: `workflows.argoproj.io "${name}" already exists` } };
    const wf: FakeWorkflow = { name, namespace, labels, templates, outcome, phase: '', progress: '', stopped: false };
    workflows.set(key, wf);
    advance(wf);
    return { status: 200, body: view(wf) };
  };
  const server: Server = createServer((request, response) => {
    let raw = '';
    let bodyBytes = 0;
    request.on('data', (c: Buffer) => {
      raw += c.toString();
      bodyBytes += c.length;
    });
    request.on('end', () => {
      const send = (status: number, body: unknown) =>
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      if (path === '/api/v1/version') return send(200, { version: 'v3.5.8' });
      // HAProxy's health checks (GET / with Host: argo) are nobody's request: answered, not recorded.
      if (path === '/' && request.headers.host === 'argo')
        return response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Argo</title>');
      const traceparent = request.headers.traceparent;
      const identity = Object.fromEntries(
        Object.entries(request.headers).filter(([name]) =>
          /^(authorization|cookie|x-auth-|x-forwarded-|forwarded)/.test(name),
        ),
      );
      requests.push({
        method: request.method ?? '',
        path,
        ...(typeof traceparent === 'string' ? { traceparent } : {}),
        headers: identity,
        bodyBytes,
        seq: (arrivals += 1),
      });
      // Like an Argo Server built without its UI files: any non-API path is this page.
      if (request.method === 'GET' && !path.startsWith('/api/'))
        return response
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<!doctype html><html><head><title>Argo</title></head><body>Built without static files</body></html>');
      if (failures > 0) {
        failures -= 1;
        return send(503, { code: 14, message: 'the server is currently unable to handle the request' });
      }
      const namespace = /^\/api\/v1\/[a-z-]+\/([^/]+)/.exec(path)?.[1];
      const accepted =
        options.accept?.(request.headers.authorization, namespace) ??
        request.headers.authorization === `Bearer ${options.token}`;
      if (!accepted)
        return options.accept === undefined || request.headers.authorization === undefined
          ? send(401, { code: 16, message: 'token not valid' })
          : send(403, { code: 7, message: 'Permission denied' });
      const body = JSON.parse(raw || '{}') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      let m: RegExpExecArray | null;
      if (request.method === 'GET' && (m = /^\/api\/v1\/workflows\/([^/]+)$/.exec(path))) {
        const items = [...workflows.values()].filter((wf) => wf.namespace === m![1]).map(view);
        return send(200, { metadata: {}, items });
      }
      if (request.method === 'POST' && (m = /^\/api\/v1\/workflows\/([^/]+)\/submit$/.exec(path))) {
        const template = options.templates[body.resourceName];
        if (body.resourceKind !== 'WorkflowTemplate' || template === undefined)
          return send(404, { code: 5, message: `workflowtemplates.argoproj.io "${body.resourceName}" not found` });
        const entry = body.submitOptions?.entryPoint;
        if (entry !== undefined && !template.templates.includes(entry))
          return send(400, { code: 3, message: `spec.entrypoint: template ${entry} not found` });
        const name = body.submitOptions?.name;
        if (typeof name !== 'string' || name.length > 63) return send(400, { code: 3, message: 'invalid name' });
        const labels = Object.fromEntries(
          String(body.submitOptions?.labels ?? '')
            .split(',')
            .filter(Boolean)
            .map((kv: string) => kv.split('=')),
        );
        const { status, body: answer } = create(
          m[1]!,
          name,
          labels,
          template.templates,
          template.outcome ?? 'Succeeded',
        );
        return send(status, answer);
      }
      if (request.method === 'POST' && (m = /^\/api\/v1\/workflows\/([^/]+)$/.exec(path))) {
        const wf = body.workflow ?? {};
        const names: string[] = (wf.spec?.templates ?? []).map((t: { name: string }) => t.name);
        if (typeof wf.spec?.entrypoint !== 'string' || !names.includes(wf.spec.entrypoint)) {
          return send(400, { code: 3, message: `spec.entrypoint: template ${String(wf.spec?.entrypoint)} not found` });
        }
        const outcome = wf.metadata?.annotations?.['fake.argo/outcome'] === 'Failed' ? 'Failed' : 'Succeeded';
        const { status, body: answer } = create(m[1]!, wf.metadata?.name, wf.metadata?.labels ?? {}, names, outcome);
        const stored = workflows.get(`${m[1]}/${wf.metadata?.name}`);
        if (status === 200 && stored !== undefined) {
          stored.annotations = wf.metadata?.annotations ?? {};
          stored.parameters = wf.spec?.arguments?.parameters ?? [];
        }
        return send(status, answer);
      }
      if ((m = /^\/api\/v1\/workflows\/([^/]+)\/([^/]+)(\/stop)?$/.exec(path))) {
        const wf = workflows.get(`${m[1]}/${m[2]}`);
        if (wf === undefined) return send(404, { code: 5, message: `workflows.argoproj.io "${m[2]}" not found` });
        if (request.method === 'PUT' && m[3] === '/stop') {
          Object.assign(wf, {
            stopped: true,
            phase: 'Failed',
            message: "Stopped with strategy 'Stop'",
            finishedAt: new Date().toISOString(),
          });
          return send(200, view(wf));
        }
        if (request.method === 'GET') return send(200, view(wf));
      }
      return send(404, { code: 5, message: 'not found' });
    });
  });
  server.listen(options.listen?.port ?? 0, options.listen?.host ?? '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    workflows,
    requests,
    failNext(count) {
      failures = count;
    },
    async close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

function view(wf: FakeWorkflow) {
  return {
    metadata: { name: wf.name, namespace: wf.namespace, labels: wf.labels },
    status: {
      phase: wf.phase,
      progress: wf.progress,
      message: wf.message,
      startedAt: wf.startedAt,
      finishedAt: wf.finishedAt,
    },
  };
}
