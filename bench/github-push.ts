// Webhook bodies for the bench: a GitHub push in its real shape (fields from
// @octokit/webhooks-examples), each one different (a nonce), so every delivery is new and starts a
// job; padded to the size wanted and signed as GitHub signs it.
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface SignedDelivery {
  body: string;
  headers: Record<string, string>;
}

let push: Record<string, unknown> | undefined;
let padding = '';

/** The push, read once from the examples; the padding, built once (20 MB). */
function pushShape(): Record<string, unknown> {
  if (push !== undefined) return push;
  const example = (
    JSON.parse(readFileSync('node_modules/@octokit/webhooks-examples/api.github.com/index.json', 'utf8')) as Array<{
      name: string;
      examples: Array<Record<string, unknown>>;
    }>
  )
    .find((e) => e.name === 'push')!
    .examples.find((x) => x.ref === 'refs/heads/master')!;
  const pick = (value: unknown, keys: string[]) =>
    Object.fromEntries(keys.map((k) => [k, (value as Record<string, unknown>)[k]]));
  const repository = example.repository as Record<string, unknown>;
  push = {
    ref: 'refs/heads/main',
    before: example.before,
    after: example.after,
    repository: {
      ...pick(repository, ['id', 'node_id', 'name', 'full_name', 'private', 'html_url', 'clone_url', 'default_branch']),
      owner: pick(repository.owner, ['login', 'id', 'type']),
    },
    pusher: example.pusher,
    sender: pick(example.sender, ['login', 'id', 'type']),
    created: false,
    deleted: false,
    forced: false,
    compare: example.compare,
    commits: [],
  };
  padding = 'x'.repeat(20 * 1_048_576);
  return push;
}

/**
 * A new delivery of `bytes` (at most 20 MB) as `event`, signed with `secret`. Another event than
 * a push carries the push's repository and sender without its ref, before and after: the intake
 * refuses a push body under another event name as malformed (400), not ignored.
 */
export function signedPush(secret: string, bytes: number, event = 'push'): SignedDelivery {
  const push = pushShape();
  const { ref: _ref, before: _before, after: _after, ...common } = push;
  const shape = event === 'push' ? push : { action: 'opened', issue: { number: 1, title: 'bench' }, ...common };
  const nonce = randomUUID();
  const base = JSON.stringify({ ...shape, nonce, padding: '' }).length;
  const body = JSON.stringify({ ...shape, nonce, padding: padding.slice(0, Math.max(0, bytes - base)) });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-hook-id': '1',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
  };
}
