import { describe, expect, it } from 'vitest';
import type { GitEvent } from '../../../src/core/git-event.js';
import { compileRules, matchRule as matchCompiled } from '../../../src/bridge/webhooks/match-rule.js';
import type { WebhookRuleConfig } from '../../../src/config/schema.js';

const matchRule = (event: Parameters<typeof matchCompiled>[0], rules: WebhookRuleConfig[]) =>
  matchCompiled(event, compileRules(rules));

const event = (over: Partial<GitEvent>): GitEvent => ({
  provider: 'github',
  hook: 'default',
  deliveryId: 'd',
  event: 'push',
  kind: 'push',
  repository: { fullName: 'acme/api' },
  sender: { login: 'x' },
  ...over,
});

describe('matchRule', () => {
  it('takes the first rule that matches', () => {
    const rules = [{ route: 'a', kinds: ['tag' as const] }, { route: 'b' }, { route: 'c' }];
    expect(matchRule(event({ kind: 'tag', tag: 'v1' }), rules)).toEqual({ route: 'a' });
    expect(matchRule(event({}), rules)).toEqual({ route: 'b' });
  });

  it('filters branches and tags each by their own list', () => {
    const rules = [{ route: 'r', branches: ['main', 'release/**'], tags: ['v*'] }];
    expect(matchRule(event({ branch: 'main' }), rules)).toEqual({ route: 'r' });
    expect(matchRule(event({ branch: 'release/1.2/hotfix' }), rules)).toEqual({ route: 'r' });
    expect(matchRule(event({ kind: 'tag', tag: 'v2.0' }), rules)).toEqual({ route: 'r' });
    expect(matchRule(event({ branch: 'feature/x' }), rules)).toHaveProperty('ignored');
    expect(matchRule(event({ kind: 'tag', tag: 'nightly' }), rules)).toHaveProperty('ignored');
    expect(matchRule(event({ kind: 'tag', tag: 'v1' }), [{ route: 'r', branches: ['main'] }])).toHaveProperty(
      'ignored',
    );
  });

  it('filters actions and repositories, and names the event when nothing matches', () => {
    const rules = [{ route: 'r', actions: ['opened'], repositories: ['acme/*'] }];
    expect(matchRule(event({ kind: 'pull_request', action: 'opened' }), rules)).toEqual({ route: 'r' });
    expect(matchRule(event({ kind: 'pull_request', action: 'closed' }), rules)).toHaveProperty('ignored');
    const miss = matchRule(
      event({ kind: 'pull_request', action: 'opened', repository: { fullName: 'other/x' } }),
      rules,
    );
    expect(miss).toEqual({ ignored: 'no rule matches push (pull_request opened other/x)' });
  });
});
