// Each provider's check that a signed payload has the shape of the event its (unsigned) header
// names: every GitHub example payload passes under its own event name, and a push payload under
// any other name is refused (it used to be answered `200 ignored` and logged in full each time).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { providers } from '../../../src/providers/registry.js';

const examples = JSON.parse(
  readFileSync(
    new URL('../../../node_modules/@octokit/webhooks-examples/api.github.com/index.json', import.meta.url),
    'utf8',
  ),
) as Array<{ name: string; examples: Array<Record<string, unknown>> }>;
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/webhooks/${name}.json`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
const githubPush = examples.find((entry) => entry.name === 'push')!.examples[0]!;

describe('payload shapes', () => {
  it('takes every GitHub example under its own event name', () => {
    const refused = examples.flatMap((entry) =>
      entry.examples
        .filter((payload) => !providers.github.webhook.matchesEvent(entry.name, payload))
        .map(() => entry.name),
    );
    expect(refused).toEqual([]);
  });

  it.each(['evt1', 'pull_request', 'issue_comment', 'create', 'ping', 'constructor'])(
    'refuses a GitHub push payload sent as %s',
    (event) => {
      expect(providers.github.webhook.matchesEvent(event, githubPush)).toBe(false);
    },
  );

  it('refuses a Gitea push payload under another event name, and takes it as a push', () => {
    const push = fixture('gitea-push');
    expect(providers.gitea.webhook.matchesEvent('push', push)).toBe(true);
    for (const event of ['evt1', 'pull_request', 'create'])
      expect(providers.gitea.webhook.matchesEvent(event, push)).toBe(false);
  });

  it('refuses a GitLab push payload under another event header, and takes each under its own', () => {
    const push = fixture('gitlab-push');
    const mergeRequest = fixture('gitlab-merge-request');
    const tagPush = { ...push, object_kind: 'tag_push', event_name: 'tag_push' };
    expect(providers.gitlab.webhook.matchesEvent('Push Hook', push)).toBe(true);
    expect(providers.gitlab.webhook.matchesEvent('Tag Push Hook', tagPush)).toBe(true);
    expect(providers.gitlab.webhook.matchesEvent('Merge Request Hook', mergeRequest)).toBe(true);
    // Events Gatehouse has no shape for still pass when their payload is not a push.
    expect(providers.gitlab.webhook.matchesEvent('Pipeline Hook', { ...mergeRequest, object_kind: 'pipeline' })).toBe(
      true,
    );
    for (const event of ['Evt1 Hook', 'Merge Request Hook', 'Note Hook', 'Tag Push Hook', 'System Hook'])
      expect(providers.gitlab.webhook.matchesEvent(event, push)).toBe(false);
    expect(providers.gitlab.webhook.matchesEvent('Push Hook', tagPush)).toBe(false);
  });

  it('refuses a Bitbucket push payload under another event key', () => {
    const push = fixture('bitbucket-push');
    expect(providers.bitbucket.webhook.matchesEvent('repo:push', push)).toBe(true);
    for (const event of ['repo:updated', 'pullrequest:created', 'evt1'])
      expect(providers.bitbucket.webhook.matchesEvent(event, push)).toBe(false);
    expect(providers.bitbucket.webhook.matchesEvent('repo:updated', { repository: {}, changes: {} })).toBe(true);
  });
});
