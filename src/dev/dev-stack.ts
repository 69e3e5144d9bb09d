// The quick start's first command (`npm run dev`): a development identity issuer, a Temporal dev
// server, the worker, two bridge replicas and HAProxy in front of them with a self-signed
// certificate, on their embedded defaults, then a ready-to-paste curl that goes through the edge
// over TLS. Keys are synced to the edge at start and every minute. Ctrl-C stops everything.
// The workers run compiled, as production runs them (src/config/worker-process.ts), so the stack
// builds first (npm run build) when dist/ is missing or older than the sources.
// Browser sign-in is on (docs/sign-in.md): the issuer serves a sign-in page where anyone signs in
// as anyone, the bridges are its relying party at the edge's origin, and the Temporal UI is served
// behind the edge at /temporal/; the URLs to open are printed. Its keys are fresh on each start.
// Ports default to 9000 / 7233 / 8443 (edge) / 8081-8082 (bridges) and fall back to free ones.
// With --smoke it runs the printed flow itself, prints the result and exits (used by the e2e test).
// Tracing: the bridges and workers export to a small OTLP/HTTP receiver in this process (port 4318,
// src/dev/trace-receiver.ts), which prints each job's trace as a tree and serves /api/traces; no
// real backend (Jaeger, a Collector) can be installed here without a long build from source. With
// OTEL_EXPORTER_OTLP_ENDPOINT set, they export there instead (your Jaeger or Collector) and no
// receiver runs. `docker compose up` runs Jaeger.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { sessionJwksPath } from '../bridge/sign-in/sign-in-plugin.js';
import { loadConfig } from '../config/load-config.js';
import { nodeEnvironment } from '../config/node-environment.js';
import { workerCommand } from '../config/worker-process.js';
import { ensureBuild } from './build.js';
import { startDevIssuer } from './dev-issuer.js';
import { deviceGrant } from './dev-issuer-device.js';
import { devSignIn } from './dev-sign-in-config.js';
import { edgeConfigFiles } from '../edge/edge-files.js';
import { loopbackEdgeEnv, startEdge } from './edge-process.js';
import { syncJwks } from '../edge/sync-jwks.js';
import { freePort, startDevServer, temporalCli } from './temporal-dev-server.js';
import { formatTrace, startTraceReceiver, type ReceivedSpan, type TraceReceiver } from './trace-receiver.js';

const smoke = process.argv.includes('--smoke');
const fresh = smoke || process.argv.includes('--fresh');
const children: ChildProcess[] = [];
const stops: Array<() => Promise<void>> = [];

async function portOr(preferred: number): Promise<number> {
  if (fresh) return freePort();
  const free = await new Promise<boolean>((done) => {
    const probe = createServer().once('error', () => done(false));
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => done(true)));
  });
  return free ? preferred : freePort();
}

/** Runs `node <args>` as a part of the stack, its output prefixed with its name. */
function run(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...nodeEnvironment, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (data: Buffer) =>
    data
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((line) => `[${name}] ${line}\n`)
      .join('');
  child.stdout?.on('data', (data: Buffer) => {
    if (!smoke) process.stdout.write(prefix(data));
  });
  child.stderr?.on('data', (data: Buffer) => process.stderr.write(prefix(data)));
  child.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${code ?? signal}); stopping the stack`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
async function stop(code = 0): Promise<never> {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(
    children.map((child) =>
      child.exitCode === null && child.signalCode === null
        ? new Promise((done) => child.once('exit', done))
        : undefined,
    ),
  );
  for (const stopPart of stops.reverse()) await stopPart();
  process.exit(code);
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms`);
}

async function main(): Promise<void> {
  await ensureBuild(process.cwd(), (line) => console.log(line));
  const [issuerPort, temporalPort, edgePort] = [await portOr(9000), await portOr(7233), await portOr(8443)];
  const bridgePorts = [await portOr(8081), await portOr(8082)];
  const metricsPorts = [await portOr(9464), await portOr(9465)];
  const issuer = await startDevIssuer({
    port: issuerPort,
    allowTokenEndpoint: true,
    allowSignIn: true,
    extensions: [deviceGrant()],
  });
  stops.push(() => issuer.close());

  const dataDir = resolve('.data');
  mkdirSync(dataDir, { recursive: true });
  const temporal = await startDevServer({
    port: temporalPort,
    uiPublicPath: '/temporal',
    uiPort: await portOr(8233),
    ...(fresh ? {} : { dbFile: resolve(dataDir, 'temporal.db') }),
    log: (line) => {
      if (process.env.TEMPORAL_LOG === '1') process.stderr.write(`[temporal] ${line}`);
    },
  });
  stops.push(() => temporal.stop());

  // Webhook secrets: yours when set, otherwise fresh development values, printed below.
  const webhookSecrets = Object.fromEntries(
    [
      'GATEHOUSE_GITHUB_WEBHOOK_SECRET',
      'GATEHOUSE_GITLAB_WEBHOOK_TOKEN',
      'GATEHOUSE_GITEA_WEBHOOK_SECRET',
      'GATEHOUSE_BITBUCKET_WEBHOOK_SECRET',
    ].map((name) => [name, process.env[name] ?? `dev-${randomBytes(12).toString('hex')}`]),
  );
  const traces = await startTraces();
  const base = `https://127.0.0.1:${edgePort}`;
  const signIn = await devSignIn(process.env.GATEHOUSE_CONFIG ?? 'config/gatehouse.yaml', base, dataDir);
  const env = {
    ...webhookSecrets,
    GATEHOUSE_CONFIG: process.env.GATEHOUSE_CONFIG ?? 'config/gatehouse.yaml',
    TEMPORAL_ADDRESS: temporal.address,
    GATEHOUSE_JWT_ISSUER: issuer.issuer,
    GATEHOUSE_JWT_AUDIENCE: issuer.audience,
    ...(traces === undefined
      ? {}
      : // Exported half a second after they end (not the SDK's 5 s), so a job's trace prints promptly.
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: traces.url,
          OTEL_BSP_SCHEDULE_DELAY: process.env.OTEL_BSP_SCHEDULE_DELAY ?? '500',
        }),
  };
  // One worker process per task queue, as production runs them: each registers only its queue's
  // activities.
  for (const queue of loadConfig({ ...process.env, ...env }, { webhookSecrets: false }).taskQueues) {
    run(`worker:${queue}`, workerCommand(queue).slice(1), env);
  }
  bridgePorts.forEach((port, index) =>
    run(`bridge${index + 1}`, ['--import', 'tsx', 'src/server.ts'], {
      ...env,
      // Only the bridges are the sign-in's relying party: the workers keep the config as given.
      ...signIn.env,
      GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
      GATEHOUSE_METRICS_LISTEN: `127.0.0.1:${metricsPorts[index]}`,
    }),
  );
  for (const port of bridgePorts) await waitReady(`http://127.0.0.1:${port}/readyz`, 60_000);

  // The edge: keys synced from the issuer, then HAProxy in front of both replicas.
  const edgeDir = resolve(dataDir, 'edge');
  const edgeEnv = await loopbackEdgeEnv({
    dir: edgeDir,
    issuer,
    bridges: [`127.0.0.1:${bridgePorts[0]}`, `127.0.0.1:${bridgePorts[1]}`],
    overrides: {
      EDGE_KEYS_DIR: fresh ? mkdtempSync(join(tmpdir(), 'gatehouse-keys-')) : resolve(edgeDir, 'keys'),
      EDGE_HTTPS_BIND: `127.0.0.1:${edgePort}`,
      EDGE_ARGO_BIND: `127.0.0.1:${await portOr(2745)}`,
      EDGE_ARGO_1: '127.0.0.1:2746',
      EDGE_ARGO_2: '127.0.0.1:2747',
      EDGE_STATS_BIND: `127.0.0.1:${await portOr(8404)}`,
      EDGE_PUBLIC_ORIGIN: base,
      EDGE_TEMPORAL_UI: temporal.uiAddress!,
    },
  });

  const syncKeys = (masterSocket?: string) =>
    syncJwks({
      jwksUrl: issuer.jwksUrl,
      sessionJwksUrl: `http://127.0.0.1:${bridgePorts[0]}${sessionJwksPath}`,
      keysDir: edgeEnv.EDGE_KEYS_DIR,
      configFiles: edgeConfigFiles(edgeEnv),
      retainSeconds: 0,
      env: { ...process.env, ...edgeEnv },
      ...(masterSocket === undefined ? {} : { masterSocket }),
    });
  await syncKeys();
  const edge = await startEdge(edgeEnv, {
    log: (line) => {
      if (process.env.EDGE_LOG === '1') process.stderr.write(`[haproxy] ${line}`);
    },
  });
  stops.push(() => edge.stop());
  const resync = setInterval(
    () => void syncKeys(edge.masterSocket).catch((error: unknown) => console.error(`[sync] ${String(error)}`)),
    60_000,
  );
  stops.push(async () => clearInterval(resync));
  const ca = `${resolve(edgeDir, 'tls')}/edge.crt`;

  const token = await issuer.mint(
    { sub: 'dev-user', name: 'Dev User', email: 'dev@example.test', groups: ['maintainers'] },
    { expiresIn: 8 * 3600 },
  );
  const body =
    '{"action":{"type":"Gatehouse::Action","id":"deploy"},"resource":{"type":"Gatehouse::Repository","id":"acme/api"}}';

  if (smoke) {
    await runSmoke(base, ca, token, body, temporal.address, traces);
    await stop(0);
  }

  console.log(`
Gatehouse dev stack is up.

Open in a browser (the certificate is self-signed: accept it once). The development issuer's sign-in
page lets you in as any user name with any groups: gatehouse-admins sees the Temporal UI,
maintainers may read its default namespace; others are refused it.
  sign in        ${base}/auth/login
  the console    ${base}/ui/   (your jobs, start a job, deliveries for admins, usage)
  Temporal UI    ${base}/temporal/
  your jobs      ${base}/v1/jobs   (the API answers a signed-in browser as the same person as their token)
  sign out       ${base}/auth/logout

From a terminal, the gatehouse command (docs/cli.md), signed in with the device grant:
  npx gatehouse profile set dev --url ${base} --ca ${ca} --issuer ${issuer.issuer}
  npx gatehouse login && npx gatehouse run policy-check --input - --wait <<< '${body}'

Where it runs:
  edge       ${base}   (HAProxy, TLS with a self-signed certificate: ${ca})
  bridges    ${bridgePorts.map((p) => `http://127.0.0.1:${p}`).join(', ')}   (OpenAPI: ${base}/openapi.json, docs: ${base}/docs)
  edge stats http://${edgeEnv.EDGE_STATS_BIND}/stats and /metrics
  temporal   ${temporal.address}   (state in .data/temporal.db)
  traces     ${traces === undefined ? `exported to ${process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT}` : `${traces.url}/api/traces   (OTLP/HTTP receiver; each job's trace is printed below as a tree)`}
  issuer     ${issuer.issuer}   (discovery, JWKS, and POST /token for more dev tokens)

A token for "dev-user" (group maintainers), valid 8 hours:
  export TOKEN=${token}

Start a policy-check job:
  curl -s --cacert ${ca} -X POST ${base}/v1/jobs/policy-check -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -H 'Idempotency-Key: first-job' -d '${body}'

Then wait for its result (use the jobId printed above):
  curl -s --cacert ${ca} "${base}/v1/jobs/<jobId>?wait=10" -H "Authorization: Bearer $TOKEN"
  curl -s --cacert ${ca} ${base}/v1/jobs -H "Authorization: Bearer $TOKEN"
  ${temporalCli()} workflow describe --address ${temporal.address} -w <jobId>

Webhooks (point a provider at these, content type application/json, with the secret shown):
${Object.entries(webhookSecrets)
  .map(([name, value]) => `  ${base}/v1/webhooks/${name.split('_')[1]!.toLowerCase()}   ${name}=${value}`)
  .join('\n')}

Another caller's token:
  curl -s -X POST ${issuer.issuer}/token -d '{"sub":"alice","groups":["gatehouse-admins"]}'

Ctrl-C stops everything.`);
}

/**
 * The trace receiver, unless the user exports elsewhere. It prints the trace of each job start or
 * webhook delivery (those with a StartWorkflow span) once no span of it arrived for 2 s.
 */
async function startTraces(): Promise<TraceReceiver | undefined> {
  if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return undefined;
  const pending = new Map<string, NodeJS.Timeout>();
  const receiver: TraceReceiver = await startTraceReceiver({
    port: await portOr(4318),
    onSpans: (spans: ReceivedSpan[]) => {
      if (smoke) return;
      for (const traceId of new Set(spans.map((span) => span.traceId))) {
        clearTimeout(pending.get(traceId));
        const timer = setTimeout(() => {
          pending.delete(traceId);
          const trace = receiver.trace(traceId);
          if (trace.some((span) => span.name.startsWith('StartWorkflow:')))
            process.stdout.write(`${formatTrace(trace).replace(/^/gm, '[traces] ')}\n`);
        }, 2_000);
        timer.unref();
        pending.set(traceId, timer);
      }
    },
  });
  stops.push(() => receiver.close());
  return receiver;
}

/** The printed flow, run for real through the edge: start, wait, print what the API and Temporal answered. */
async function runSmoke(
  base: string,
  caFile: string,
  token: string,
  body: string,
  temporalAddress: string,
  traces: TraceReceiver | undefined,
): Promise<void> {
  const ca = readFileSync(caFile);
  const call = (method: string, path: string, headers: Record<string, string>, payload?: string) =>
    new Promise<{ status: number; json: unknown; traceId?: string }>((done, fail) => {
      const request = httpsRequest(`${base}${path}`, { method, headers, ca }, (response) => {
        let text = '';
        response.on('data', (d: Buffer) => {
          text += d.toString();
        });
        const traceId = response.headers['x-trace-id'];
        response.on('end', () =>
          done({
            status: response.statusCode ?? 0,
            json: JSON.parse(text),
            ...(typeof traceId === 'string' ? { traceId } : {}),
          }),
        );
      });
      request.on('error', fail);
      request.end(payload);
    });
  const headers = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    'idempotency-key': `smoke-${Date.now()}`,
  };
  // The printed sign-in: a page without a session goes to sign in, and on to the issuer's page.
  const fetchOnce = (url: string) =>
    new Promise<{ status: number; location?: string; body: string }>((done, fail) => {
      const target = new URL(url);
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const request = send(
        target,
        { headers: { 'sec-fetch-mode': 'navigate', accept: 'text/html' }, ca },
        (response) => {
          let text = '';
          response.on('data', (d: Buffer) => {
            text += d.toString();
          });
          const location = response.headers.location;
          response.on('end', () =>
            done({ status: response.statusCode ?? 0, ...(location === undefined ? {} : { location }), body: text }),
          );
        },
      );
      request.on('error', fail);
      request.end();
    });
  const page = await fetchOnce(`${base}/temporal/`);
  const login = await fetchOnce(new URL(page.location ?? '/', base).href);
  const authorize = await fetchOnce(new URL(login.location ?? '/', base).href);
  console.log(
    `SMOKE signin ${JSON.stringify({
      page: page.status,
      login: page.location,
      loginStatus: login.status,
      authorize: new URL(login.location ?? '/', base).pathname,
      authorizeStatus: authorize.status,
      signInForm: authorize.body.includes('<form method="post" action="/authorize">'),
    })}`,
  );
  const started = await call('POST', '/v1/jobs/policy-check', headers, body);
  const start = started.json as { jobId: string };
  console.log(`SMOKE start ${started.status} ${JSON.stringify(start)}`);
  const read = await call('GET', `/v1/jobs/${start.jobId}?wait=20`, { authorization: `Bearer ${token}` });
  console.log(`SMOKE read ${read.status} ${JSON.stringify(read.json)}`);
  const describe = spawn(
    temporalCli(),
    ['workflow', 'describe', '--address', temporalAddress, '-w', start.jobId, '-o', 'json'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  describe.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await new Promise((done) => describe.once('exit', done));
  console.log(`SMOKE describe ${JSON.stringify(JSON.parse(out))}`);
  // The job's trace, from the edge's request to the activity's own span.
  if (traces !== undefined && started.traceId !== undefined) {
    const traceId = started.traceId;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !traces.trace(traceId).some((span) => span.name.startsWith('RunWorkflow:')))
      await new Promise((r) => setTimeout(r, 200));
    const spans = traces.trace(traceId);
    console.log(`SMOKE trace ${JSON.stringify({ traceId, spans: spans.map((span) => span.name).sort() })}`);
  }
}

main().catch(async (error: unknown) => {
  console.error(error);
  await stop(1);
});
