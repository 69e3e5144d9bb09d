// `gatehouse run ci --follow` against a real CI job: a real bridge listening on loopback, a real
// worker running the steps in the sandbox on a local Git repository, the run's Temporal dev
// server. The command prints a line per phase and per step as they happen, then the job's final
// state, and its exit code says how the job ended: 0 when every step passed, 1 when one failed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../../src/command/program.js';
import { ciFakes, ciOverlay } from '../helpers/ci-overlay.js';
import { useGatehouse } from '../helpers/gatehouse.js';

const g = useGatehouse({
  name: 'gatehouse-cli-ci',
  bridge: 'listen',
  fakes: ciFakes({ 'check.sh': '#!/bin/sh\necho "checked $(git rev-parse HEAD)"\n' }),
  overlay: ({ fakes }) =>
    ciOverlay(fakes, [
      {
        repositories: ['acme-cli/*'],
        runner: 'steps',
        steps: [
          { name: 'lint', run: 'sleep 0.5; ./check.sh', timeout: '1m' },
          { name: 'build', run: 'sleep 0.5; echo built', timeout: '1m' },
          { name: 'test', run: 'sleep 0.5; echo tested', timeout: '1m' },
        ],
      },
      {
        repositories: ['acme-cli-broken/*'],
        runner: 'steps',
        steps: [
          { name: 'compile', run: 'echo compiled', timeout: '1m' },
          { name: 'test', run: 'echo "1 failing" >&2; exit 3', timeout: '1m' },
          { name: 'deploy', run: 'true', timeout: '1m' },
        ],
      },
    ]),
});
const inputs = mkdtempSync(join(tmpdir(), 'gatehouse-cli-ci-'));

/** `gatehouse run ci --input <file> --follow` for this repository; stdout's lines with when each came. */
async function followCi(repository: string) {
  const input = join(inputs, `${repository.replace('/', '-')}.json`);
  writeFileSync(
    input,
    JSON.stringify({ provider: 'github', repository: { fullName: repository }, after: g.fakes.git.sha }),
  );
  const { token } = await g.caller({ groups: ['maintainers'] });
  const lines: Array<{ text: string; at: number }> = [];
  let pending = '';
  let stderr = '';
  const code = await runCommand(['run', 'ci', '--input', input, '--follow'], {
    stdout: {
      write: (chunk: string) => {
        pending += chunk;
        const parts = pending.split('\n');
        pending = parts.pop()!;
        for (const text of parts) lines.push({ text, at: performance.now() });
        return true;
      },
    } as unknown as NodeJS.WritableStream,
    stderr: { write: (chunk: string) => ((stderr += chunk), true) } as unknown as NodeJS.WritableStream,
    env: {
      XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'gatehouse-xdg-')),
      GATEHOUSE_URL: g.url,
      GATEHOUSE_TOKEN: token,
    },
  });
  return { code, stderr, lines, text: lines.map((line) => line.text) };
}

describe('gatehouse run ci --follow', () => {
  it('prints each phase and step as it happens, then the final state, and exits 0 when the job passed', async () => {
    const ran = await followCi('acme-cli/app');
    expect(ran.code, ran.stderr).toBe(0);
    const jobId = /^started (ci\.\S+) \(ci\)$/.exec(ran.text[0]!)?.[1];
    expect(jobId, ran.text.join('\n')).toBeDefined();
    const progress = ran.text.filter((line) => /^(phase|step) /.test(line));
    expect(progress).toEqual([
      'phase planning',
      'phase checking out',
      'phase running',
      'step 1 lint: started',
      'step 1 lint: passed',
      'step 2 build: started',
      'step 2 build: passed',
      'step 3 test: started',
      'step 3 test: passed',
      'phase passed',
    ]);
    // The final state, as `jobs get` prints it (plain lines: stdout is not a terminal).
    expect(ran.text).toEqual(expect.arrayContaining([`job\t${jobId}`, 'status\tCOMPLETED', 'route\tci']));
    expect(ran.text.find((line) => line.startsWith('result\t'))).toContain('"outcome":"passed"');
    // Live, not replayed at the end: the first step's line came well before the final state (the
    // steps take 1.5 s).
    const firstStep = ran.lines.find((line) => line.text.startsWith('step 1 '))!;
    const final = ran.lines.find((line) => line.text === 'status\tCOMPLETED')!;
    expect(final.at - firstStep.at).toBeGreaterThan(800);
  }, 90_000);

  it('exits 1 when a step fails, after printing the failed step and the failure', async () => {
    const ran = await followCi('acme-cli-broken/app');
    expect(ran.code, ran.stderr).toBe(1);
    expect(ran.text.filter((line) => line.startsWith('step '))).toEqual([
      'step 1 compile: started',
      'step 1 compile: passed',
      'step 2 test: started',
      'step 2 test: failed (exit 3)',
    ]);
    expect(ran.text).toContain('status\tFAILED');
    expect(ran.text.find((line) => line.startsWith('failure\t'))).toContain('(PipelineFailed)');
    expect(ran.stderr).toBe('');
  }, 90_000);
});
