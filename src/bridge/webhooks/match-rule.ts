// Which route a delivery starts: the hook's rules in order, first match wins. A rule's absent
// lists match anything; branch, tag and repository lists are globs (`release/*`, `acme/**`).
// `branches` and `tags` together filter the ref: a branch must match `branches`, a tag `tags`, so
// `{ branches: [main], tags: ['v*'] }` means pushes to main and v* tags, and `{ branches: [main] }`
// alone excludes every tag.
import picomatch from 'picomatch';
import type { GitEvent } from '../../core/git-event.js';
import type { WebhookRuleConfig } from '../../config/schema.js';

export type RuleMatch = { route: string } | { ignored: string };

export function matchRule(
  event: Omit<GitEvent, 'hook' | 'deliveryId'>,
  rules: readonly WebhookRuleConfig[],
): RuleMatch {
  for (const rule of rules) {
    if (rule.kinds !== undefined && !rule.kinds.includes(event.kind)) continue;
    if (rule.actions !== undefined && (event.action === undefined || !rule.actions.includes(event.action))) continue;
    if (!refMatches(rule, event)) continue;
    if (rule.repositories !== undefined && !globs(rule.repositories, event.repository.fullName)) continue;
    return { route: rule.route };
  }
  const what = [event.kind, event.action, event.branch ?? event.tag, event.repository.fullName]
    .filter(Boolean)
    .join(' ');
  return { ignored: `no rule matches ${event.event} (${what})` };
}

function refMatches(rule: WebhookRuleConfig, event: Pick<GitEvent, 'branch' | 'tag'>): boolean {
  if (rule.branches === undefined && rule.tags === undefined) return true;
  if (event.branch !== undefined) return rule.branches !== undefined && globs(rule.branches, event.branch);
  if (event.tag !== undefined) return rule.tags !== undefined && globs(rule.tags, event.tag);
  return false;
}

function globs(patterns: string[], value: string | undefined): boolean {
  return value !== undefined && picomatch.isMatch(value, patterns, { dot: true });
}
