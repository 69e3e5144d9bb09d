// The configured hooks, compiled once at start-up: provider, rules, resolved secrets, and the
// server their repositories live on with the clone-URL rule bound to it. The intake routes and
// the delivery replay share them.
import { cloneRule, webUrlFor } from '../../config/clone-url.js';
import type { GatehouseConfig } from '../../config/load-config.js';
import { providerNames, providers } from '../../providers/registry.js';
import type { Hook } from './intake.js';
import { compileRules } from './match-rule.js';

/** By `provider/hook`. A hook without a resolved secret is left out: fail closed. */
export function configuredHooks(config: GatehouseConfig): Map<string, Hook> {
  const hooks = new Map<string, Hook>();
  for (const name of providerNames) {
    for (const [hook, hookConfig] of Object.entries(config.webhooks[name] ?? {})) {
      const secrets = config.webhookSecrets.get(`${name}/${hook}`);
      if (secrets === undefined || secrets.secrets.length === 0) continue;
      const webUrl = webUrlFor(config, name, hook);
      hooks.set(`${name}/${hook}`, {
        provider: { ...providers[name], name },
        name: hook,
        config: hookConfig,
        rules: compileRules(hookConfig.rules),
        secrets,
        webUrl,
        cloneUrl: cloneRule(name, webUrl),
      });
    }
  }
  return hooks;
}
