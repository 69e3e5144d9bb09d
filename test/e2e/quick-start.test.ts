// The README's first command, run as a user would (in --smoke mode so it exits by itself): the
// stack comes up from the shipped config, the printed flow starts a policy-check job, the job
// completes with the Cedar decision, and `temporal workflow describe` shows the caller in the memo
// and in GatehouseOwner; the job's trace reaches the dev stack's receiver as one trace, from the
// bridge's request to the Cedar evaluation; the printed sign-in URL leads to the issuer's page.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function runSmoke(): Promise<{ code: number | null; lines: Map<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/dev/dev-stack.ts', '--smoke'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const lines = new Map<string, unknown>();
      for (const match of out.matchAll(/^SMOKE (\w+) (?:\d+ )?(.*)$/gm)) lines.set(match[1]!, JSON.parse(match[2]!));
      if (lines.size < 3) reject(new Error(`smoke run incomplete (exit ${code}):\n${out}\n${err}`));
      else resolve({ code, lines });
    });
  });
}

describe('quick start (npm run dev)', () => {
  it('brings the stack up and the printed flow completes a policy-check job', async () => {
    const { code, lines } = await runSmoke();
    expect(code).toBe(0);
    const start = lines.get('start') as { jobId: string };
    expect(start.jobId).toMatch(/^policy-check\./);
    expect(lines.get('read')).toMatchObject({
      status: 'COMPLETED',
      owner: expect.stringMatching(/^jwt:http:\/\/127\.0\.0\.1:[0-9]+#dev-user$/),
      result: { decision: 'allow', policies: ['maintainers-deploy'] },
    });
    const described = lines.get('describe') as {
      workflowExecutionInfo: {
        memo: { fields: { identity: { subject: string } } };
        searchAttributes: { indexedFields: Record<string, { data: string }> };
      };
    };
    expect(described.workflowExecutionInfo.memo.fields.identity.subject).toBe('dev-user');
    // The CLI prints search attributes as raw payloads: base64 of the JSON value.
    const owner = described.workflowExecutionInfo.searchAttributes.indexedFields.GatehouseOwner!;
    expect(JSON.parse(Buffer.from(owner.data, 'base64').toString())).toMatch(
      /^jwt:http:\/\/127\.0\.0\.1:[0-9]+#dev-user$/,
    );
    // The printed sign-in URL: the Temporal UI without a session goes to sign in, then to the
    // development issuer's sign-in page.
    expect(lines.get('signin')).toEqual({
      page: 302,
      login: '/auth/login?rd=%2Ftemporal%2F',
      loginStatus: 302,
      authorize: '/authorize',
      authorizeStatus: 200,
      signInForm: true,
    });
    const trace = lines.get('trace') as { traceId: string; spans: string[] };
    expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(trace.spans).toEqual(
      expect.arrayContaining([
        'POST /v1/jobs/policy-check',
        'StartWorkflow:policyCheck',
        'RunWorkflow:policyCheck',
        'StartActivity:evaluatePolicy',
        'RunActivity:evaluatePolicy',
        'policy.evaluate',
      ]),
    );
  }, 120_000);
});
