// The quick start's first command (`npm run dev`): a development identity issuer, a Temporal dev
// server, the worker and the bridge, on their embedded defaults, then a ready-to-paste curl.
// Ctrl-C stops everything. Ports default to 9000 / 7233 / 8080 and fall back to free ones.
// With --smoke it runs the printed flow itself, prints the result and exits (used by the e2e test).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { startDevIssuer } from '../src/dev/dev-issuer.js';
import { freePort, startDevServer, temporalCli } from '../src/temporal/dev-server.js';

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

function run(name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (data: Buffer) => data.toString().split('\n').filter(Boolean).map((line) => `[${name}] ${line}\n`).join('');
  child.stdout?.on('data', (data: Buffer) => { if (!smoke) process.stdout.write(prefix(data)); });
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
  await Promise.all(children.map((child) => child.exitCode === null && child.signalCode === null
    ? new Promise((done) => child.once('exit', done)) : undefined));
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
  const [issuerPort, temporalPort, bridgePort] = [await portOr(9000), await portOr(7233), await portOr(8080)];
  const issuer = await startDevIssuer({ port: issuerPort, allowTokenEndpoint: true });
  stops.push(() => issuer.close());

  const dataDir = resolve('.data');
  mkdirSync(dataDir, { recursive: true });
  const temporal = await startDevServer({
    port: temporalPort,
    ...(fresh ? {} : { dbFile: resolve(dataDir, 'temporal.db') }),
    log: (line) => { if (process.env.TEMPORAL_LOG === '1') process.stderr.write(`[temporal] ${line}`); },
  });
  stops.push(() => temporal.stop());

  // Webhook secrets: yours when set, otherwise fresh development values, printed below.
  const webhookSecrets = Object.fromEntries(
    ['GATEHOUSE_GITHUB_WEBHOOK_SECRET', 'GATEHOUSE_GITLAB_WEBHOOK_TOKEN', 'GATEHOUSE_GITEA_WEBHOOK_SECRET', 'GATEHOUSE_BITBUCKET_WEBHOOK_SECRET']
      .map((name) => [name, process.env[name] ?? `dev-${randomBytes(12).toString('hex')}`]),
  );
  const env = {
    ...webhookSecrets,
    GATEHOUSE_CONFIG: process.env.GATEHOUSE_CONFIG ?? 'config/gatehouse.yaml',
    TEMPORAL_ADDRESS: temporal.address,
    GATEHOUSE_JWT_ISSUER: issuer.issuer,
    GATEHOUSE_JWT_AUDIENCE: issuer.audience,
    GATEHOUSE_LISTEN: `127.0.0.1:${bridgePort}`,
  };
  run('worker', 'src/worker.ts', env);
  run('bridge', 'src/server.ts', env);
  const base = `http://127.0.0.1:${bridgePort}`;
  await waitReady(`${base}/readyz`, 60_000);

  const token = await issuer.mint({ sub: 'dev-user', name: 'Dev User', email: 'dev@example.test', groups: ['maintainers'] }, { expiresIn: 8 * 3600 });
  const body = '{"action":{"type":"Gatehouse::Action","id":"deploy"},"resource":{"type":"Gatehouse::Repository","id":"acme/api"}}';

  if (smoke) {
    await runSmoke(base, token, body, temporal.address);
    await stop(0);
  }

  console.log(`
Gatehouse dev stack is up.
  bridge     ${base}   (OpenAPI: ${base}/openapi.json, docs: ${base}/docs)
  temporal   ${temporal.address}   (state in .data/temporal.db)
  issuer     ${issuer.issuer}   (discovery, JWKS, and POST /token for more dev tokens)

A token for "dev-user" (group maintainers), valid 8 hours:
  export TOKEN=${token}

Start a policy-check job:
  curl -s -X POST ${base}/v1/jobs/policy-check -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -H 'Idempotency-Key: first-job' -d '${body}'

Then wait for its result (use the jobId printed above):
  curl -s "${base}/v1/jobs/<jobId>?wait=10" -H "Authorization: Bearer $TOKEN"
  curl -s ${base}/v1/jobs -H "Authorization: Bearer $TOKEN"
  ${temporalCli()} workflow describe --address ${temporal.address} -w <jobId>

Webhooks (point a provider at these, content type application/json, with the secret shown):
${Object.entries(webhookSecrets).map(([name, value]) => `  ${base}/v1/webhooks/${name.split('_')[1]!.toLowerCase()}   ${name}=${value}`).join('\n')}

Another caller's token:
  curl -s -X POST ${issuer.issuer}/token -d '{"sub":"alice","groups":["gatehouse-admins"]}'

Ctrl-C stops everything.`);
}

/** The printed flow, run for real: start, wait, print what the API and Temporal answered. */
async function runSmoke(base: string, token: string, body: string, temporalAddress: string): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `smoke-${Date.now()}` };
  const started = await fetch(`${base}/v1/jobs/policy-check`, { method: 'POST', headers, body });
  const start = (await started.json()) as { jobId: string };
  console.log(`SMOKE start ${started.status} ${JSON.stringify(start)}`);
  const read = await fetch(`${base}/v1/jobs/${start.jobId}?wait=20`, { headers: { authorization: `Bearer ${token}` } });
  console.log(`SMOKE read ${read.status} ${JSON.stringify(await read.json())}`);
  const describe = spawn(temporalCli(), ['workflow', 'describe', '--address', temporalAddress, '-w', start.jobId, '-o', 'json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  describe.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise((done) => describe.once('exit', done));
  console.log(`SMOKE describe ${JSON.stringify(JSON.parse(out))}`);
}

main().catch(async (error: unknown) => {
  console.error(error);
  await stop(1);
});
