// GitHub's reconciler: GitHub never resends a delivery that failed, so a check lists the hook's
// deliveries (hook-deliveries.ts) and asks for the failed ones, and for those GitHub says arrived
// but the delivery log never saw, again.
import Type, { type Static } from 'typebox';
import { describedSecret, durationDefault } from '../../core/config-values.js';
import type { ReconcileBlock, ReconcilerCapability } from '../reconciler.js';
import type { GitHubHookTarget } from './hook-deliveries.js';

const settings = Type.Object(
  {
    repository: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$', description: 'owner/name of a repository hook' }),
    ),
    organization: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]+$', description: 'an organization hook' })),
    app: Type.Optional(
      Type.Object(
        {
          appId: Type.String({ pattern: '^[0-9]+$', description: "the App's id" }),
          privateKey: describedSecret("the App's private key (PEM)"),
        },
        { additionalProperties: false, description: "the GitHub App's own hook (its JWT lists the deliveries)" },
      ),
    ),
    hookId: Type.Optional(
      Type.Integer({ minimum: 1, description: 'the hook id (X-GitHub-Hook-ID); repository and organization hooks' }),
    ),
    token: Type.Optional(
      describedSecret(
        'a token that may read the hook: admin:repo_hook or admin:org_hook, or the fine-grained "Webhooks: read and write"',
      ),
    ),
    apiUrl: Type.String({ default: 'https://api.github.com', description: 'GitHub Enterprise: https://<host>/api/v3' }),
    every: durationDefault('5m', 'how often the hook is checked'),
    lookback: durationDefault('6h', 'how far back the first check looks (GitHub keeps deliveries for 3 days)'),
    maxAttempts: Type.Integer({
      minimum: 1,
      maximum: 20,
      default: 5,
      description: 'redeliveries asked for one delivery before it is given up and reported',
    }),
  },
  { additionalProperties: false, title: 'GitHub' },
);

type GitHubReconcile = Static<typeof settings>;

/** The block as GitHub's form: the config check has refused any other on a GitHub hook. */
const asGitHub = (block: ReconcileBlock) => block as ReconcileBlock & GitHubReconcile;

export const githubReconciler = {
  settings,
  keeps: '3d',
  comparesWithLog: true,
  watchesHealth: false,
  check(block, at) {
    if ('project' in block) return [`${at}: a GitHub hook names repository, organization or app, not project`];
    const { repository, organization, app, hookId, token } = asGitHub(block);
    const problems: string[] = [];
    const targets = [repository, organization, app].filter((t) => t !== undefined);
    if (targets.length !== 1)
      problems.push(`${at}: name exactly one of repository, organization or app (found ${targets.length})`);
    if (app === undefined && (hookId === undefined || token === undefined))
      problems.push(`${at}: a repository or organization hook needs hookId and token`);
    if (app !== undefined && (hookId !== undefined || token !== undefined))
      problems.push(`${at}: the App's hook is found by its JWT; hookId and token do not apply`);
    return problems;
  },
  secrets(block) {
    const { token, app } = asGitHub(block);
    return {
      ...(token === undefined ? {} : { token }),
      ...(app === undefined ? {} : { 'app/privateKey': app.privateKey }),
    };
  },
  async connect(block, secrets, timeoutMs) {
    const { createHookDeliveriesClient } = await import('./hook-deliveries.js');
    const github = asGitHub(block);
    const token = secrets.get('token');
    const privateKey = secrets.get('app/privateKey');
    const client = createHookDeliveriesClient({
      apiUrl: github.apiUrl,
      target: targetOf(github),
      timeoutMs,
      ...(token === undefined ? {} : { token: token.reveal() }),
      ...(github.app === undefined || privateKey === undefined
        ? {}
        : { app: { appId: github.app.appId, privateKey: privateKey.reveal() } }),
    });
    return {
      async list(cursor, perPage) {
        const page = await client.listPage(cursor, perPage);
        if ('rateLimited' in page) return page;
        return {
          ...page,
          deliveries: page.deliveries.map((d) => ({
            id: d.id,
            key: d.guid,
            ok: d.statusCode >= 200 && d.statusCode < 300,
            at: Date.parse(d.deliveredAt),
          })),
        };
      },
      async redeliver({ id }) {
        const answer = await client.redeliver(id);
        if ('rateLimited' in answer) return answer;
        return {
          answer: answer.gone === true ? 'gone' : answer.refused === true ? 'refused' : 'asked',
          asked: `GitHub delivery ${id}`,
          ...(answer.pauseUntil === undefined ? {} : { pauseUntil: answer.pauseUntil }),
        };
      },
    };
  },
} satisfies ReconcilerCapability;

function targetOf(settings: GitHubReconcile): GitHubHookTarget {
  if (settings.repository !== undefined) {
    const [owner, repo] = settings.repository.split('/') as [string, string];
    return { kind: 'repository', owner, repo, hookId: settings.hookId ?? 0 };
  }
  if (settings.organization !== undefined)
    return { kind: 'organization', org: settings.organization, hookId: settings.hookId ?? 0 };
  return { kind: 'app' };
}
