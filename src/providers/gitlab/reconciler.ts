// GitLab's reconciler: GitLab disables a hook that keeps failing, so a check reads the hook's
// health, then lists its events (hook-events.ts) and resends the failed ones.
import Type, { type Static } from 'typebox';
import { describedSecret, durationDefault } from '../../core/config-values.js';
import type { ReconcileBlock, ReconcilerCapability } from '../reconciler.js';

const settings = Type.Object(
  {
    project: Type.String({ minLength: 1, description: 'the project id, or its full path (group/name)' }),
    hookId: Type.Integer({ minimum: 1, description: "the project hook's id" }),
    token: describedSecret('a project, group or personal access token with the api scope and the Maintainer role'),
    apiUrl: Type.String({
      default: 'https://gitlab.com/api/v4',
      description: 'self-managed GitLab: https://<host>/api/v4',
    }),
    every: durationDefault('5m', 'how often the hook is checked'),
    lookback: durationDefault('7d', "how far back the first check looks (GitLab's events API shows 7 days)"),
    resend: Type.Boolean({
      default: true,
      description: 'resend failed events through the hook events API (GitLab 17.4 and later)',
    }),
    maxAttempts: Type.Integer({
      minimum: 1,
      maximum: 20,
      default: 5,
      description: 'resends asked for one event before it is given up and reported',
    }),
  },
  { additionalProperties: false, title: 'GitLab' },
);

/** The block as GitLab's form: the config check has refused any other on a GitLab hook. */
const asGitLab = (block: ReconcileBlock) => block as ReconcileBlock & Static<typeof settings>;

const alertLevels = { executable: 0, temporarily_disabled: 1, disabled: 2 } as const;

export const gitlabReconciler = {
  settings,
  keeps: '7d',
  // Events are keyed by Idempotency-Key (or the logged body), which older GitLab does not send.
  comparesWithLog: false,
  watchesHealth: true,
  check(block, at) {
    return 'project' in block ? [] : [`${at}: a GitLab hook names project, hookId and token`];
  },
  secrets(block) {
    return { token: asGitLab(block).token };
  },
  async connect(block, secrets, timeoutMs) {
    const { createGitLabHookClient } = await import('./hook-events.js');
    const gitlab = asGitLab(block);
    const token = secrets.get('token');
    if (token === undefined) throw new Error('the GitLab reconciler needs its token');
    const client = createGitLabHookClient({
      apiUrl: gitlab.apiUrl,
      project: gitlab.project,
      hookId: gitlab.hookId,
      token: token.reveal(),
      timeoutMs,
    });
    return {
      async readHealth() {
        const { alertStatus } = await client.readHook();
        return { alertStatus, alertLevel: alertLevels[alertStatus] };
      },
      async list(cursor, perPage) {
        const page = await client.listEvents(cursor === undefined ? 1 : Number(cursor), perPage);
        if ('rateLimited' in page) return page;
        return {
          deliveries: page.events.map((e) => ({
            id: e.id,
            key: e.eventKey ?? `event-${e.id}`,
            ok: isGitLabSuccess(e.responseStatus),
            at: Date.parse(e.createdAt),
          })),
          ...(page.nextPage === undefined ? {} : { next: String(page.nextPage) }),
        };
      },
      async redeliver({ id }) {
        const answer = await client.resend(id);
        if ('rateLimited' in answer) return answer;
        return {
          answer: answer.refused === true ? 'refused' : 'asked',
          asked: `GitLab event ${id}, answered ${answer.responseStatus}`,
        };
      },
    };
  },
} satisfies ReconcilerCapability;

/** GitLab's response_status is text: only a 2xx code is a delivery that arrived. */
export function isGitLabSuccess(responseStatus: string): boolean {
  return /^2[0-9]{2}$/.test(responseStatus);
}
