// Which route a delivery starts: the hook's rules in order, first match wins. A rule's absent
// lists match anything; branch, tag and repository lists are globs (`release/*`, `acme/**`).
// `branches` and `tags` together filter the ref: a branch must match `branches`, a tag `tags`, so
// `{ branches: [main], tags: ['v*'] }` means pushes to main and v* tags, and `{ branches: [main] }`
// alone excludes every tag. The globs are compiled once, when the hook's route is registered;
// the names they are matched against are bounded (src/core/git-names.ts) before they get here.
import picomatch from 'picomatch';
import type { GitEvent } from '../../core/git-event.js';
import type { WebhookRuleConfig } from '../../config/schema.js';

export type RuleMatch = { route: string } | { ignored: string };

type Matcher = (value: string) => boolean;

export interface CompiledRule {
  rule: WebhookRuleConfig;
  branches?: Matcher;
  tags?: Matcher;
  repositories?: Matcher;
}

export function compileRules(rules: readonly WebhookRuleConfig[]): CompiledRule[] {
  const compile = (patterns: string[] | undefined) =>
    patterns === undefined ? undefined : picomatch(patterns, { dot: true });
  return rules.map((rule) => {
    const [branches, tags, repositories] = [compile(rule.branches), compile(rule.tags), compile(rule.repositories)];
    return { rule, ...(branches && { branches }), ...(tags && { tags }), ...(repositories && { repositories }) };
  });
}

export function matchRule(event: Omit<GitEvent, 'hook' | 'deliveryId'>, rules: readonly CompiledRule[]): RuleMatch {
  for (const compiled of rules) {
    const { rule } = compiled;
    if (rule.kinds !== undefined && !rule.kinds.includes(event.kind)) continue;
    if (rule.actions !== undefined && (event.action === undefined || !rule.actions.includes(event.action))) continue;
    if (!refMatches(compiled, event)) continue;
    if (compiled.repositories !== undefined && !compiled.repositories(event.repository.fullName)) continue;
    return { route: rule.route };
  }
  const what = [event.kind, event.action, event.branch ?? event.tag, event.repository.fullName]
    .filter(Boolean)
    .join(' ');
  return { ignored: `no rule matches ${event.event} (${what})` };
}

function refMatches(compiled: CompiledRule, event: Pick<GitEvent, 'branch' | 'tag'>): boolean {
  if (compiled.branches === undefined && compiled.tags === undefined) return true;
  if (event.branch !== undefined) return compiled.branches !== undefined && compiled.branches(event.branch);
  if (event.tag !== undefined) return compiled.tags !== undefined && compiled.tags(event.tag);
  return false;
}
