// (4) A signed 1 KB GitHub push through HAProxy, each body different so each starts a job, then the
// same body as an `issues` event no rule maps (verified, parsed, matched against the rules,
// answered 200 and recorded, but no job started): the intake's own cost. Skipped without HAProxy.
import type { BenchContext } from '../context.js';
import { signedPush } from '../github-push.js';
import { cannon } from '../load.js';
import { measure, type Measured } from '../measure.js';
import { memoryPoint } from '../memory.js';
import { ms, referenceRow, targetRow, type TargetRow } from '../targets.js';
import type { StartFigures } from './starts.js';

export interface WebhookFigures {
  hook1k?: Measured;
  hook1kIgnored?: Measured;
}

/** `count` signed 1 KB deliveries of `event` through HAProxy; `expect`: the status that means ok. */
function deliveries(ctx: BenchContext, event: string, expect: number) {
  return (count: number, budgetMs: number) =>
    ctx.edge === undefined
      ? Promise.reject(new Error('HAProxy is not running'))
      : cannon({
          url: `${ctx.edge.url}/v1/webhooks/github`,
          method: 'POST',
          amount: count,
          budgetMs,
          expect: [expect],
          ...signedPush(ctx.webhookSecret, 1_024, event),
          requests: [{ setupRequest: (request) => ({ ...request, ...signedPush(ctx.webhookSecret, 1_024, event) }) }],
        });
}

export async function warmUpWebhooks(ctx: BenchContext): Promise<void> {
  if (ctx.edge !== undefined) await deliveries(ctx, 'push', 202)(ctx.knobs.n(50), 30_000);
  if (ctx.edge !== undefined) await deliveries(ctx, 'issues', 200)(ctx.knobs.n(50), 30_000);
}

export async function measureWebhooks(ctx: BenchContext): Promise<WebhookFigures> {
  if (ctx.edge === undefined) {
    ctx.report.note('webhooks skipped: HAProxy is not running');
    return {};
  }
  const { n } = ctx.knobs;
  const hook1k = await measure(ctx, 'webhook 1 KB via HAProxy', ['bridge', 'haproxy'], () =>
    deliveries(ctx, 'push', 202)(n(1000), 60_000),
  );
  const hook1kIgnored = await measure(
    ctx,
    'webhook 1 KB via HAProxy, no job (ignored event)',
    ['bridge', 'haproxy'],
    () => deliveries(ctx, 'issues', 200)(n(1000), 60_000),
  );
  memoryPoint(ctx, 'afterWebhook1KB');
  return { hook1k, hook1kIgnored };
}

/** The 1 KB delivery's bridge CPU; for reference, the same less its start, and one that starts no job. */
export function webhookTargets({ hook1k, hook1kIgnored }: WebhookFigures, starts: StartFigures): TargetRow[] {
  // What the delivery costs apart from its workflow start: a start costs the bridge at least what
  // it costs the SDK client alone (measured in the starts scenario, same run).
  const startClientMs = starts.sdk.cpuMsPerOp.client;
  return [
    targetRow(
      'signed 1 KB webhook, bridge CPU per delivery',
      hook1k === undefined ? 'n/a' : ms(hook1k.cpuMsPerOp.bridge),
      hook1k?.cpuMsPerOp.bridge ?? Number.NaN,
      '≤ 1 ms',
      (x) => x <= 1,
    ),
    referenceRow(
      'signed 1 KB webhook, bridge CPU per delivery less the SDK client CPU of its start',
      hook1k === undefined
        ? 'n/a'
        : `${ms(hook1k.cpuMsPerOp.bridge - startClientMs)} (${ms(hook1k.cpuMsPerOp.bridge)} - ${ms(startClientMs)})`,
      (hook1k?.cpuMsPerOp.bridge ?? Number.NaN) - startClientMs,
    ),
    referenceRow(
      'signed 1 KB webhook that starts no job (ignored event), bridge CPU per delivery',
      hook1kIgnored === undefined ? 'n/a' : ms(hook1kIgnored.cpuMsPerOp.bridge),
      hook1kIgnored?.cpuMsPerOp.bridge ?? Number.NaN,
    ),
  ];
}
