// gitEventPolicy: the policy gate for a Git provider event. May this sender run CI on this
// repository and ref? Cedar answers; the decision, the deciding policies and a summary of the
// event are the job's result, for audit. (The CI pipeline builds on this gate.)
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { PolicyDecision } from '../activities/policy.js';
import type { GitEvent } from '../src/core/git-event.js';
import type { JobRequest } from '../src/core/identity.js';
import { activityPolicies } from '../src/core/retry-policies.js';

const { evaluatePolicy } = proxyActivities<Activities>(activityPolicies.quick);

export interface GitEventPolicyResult extends PolicyDecision {
  provider: GitEvent['provider'];
  repository: string;
  kind: GitEvent['kind'];
  ref?: string;
  after?: string;
  /** The sender's principal; its login is shown as sent, and trusted for nothing. */
  sender: string;
  senderLogin: string;
}

export async function gitEventPolicy(request: JobRequest<GitEvent>): Promise<GitEventPolicyResult> {
  const event = request.input;
  const decision = await evaluatePolicy(
    {
      action: { type: 'Gatehouse::Action', id: 'run-ci' },
      resource: { type: 'Gatehouse::Repository', id: event.repository.fullName },
      context: {
        provider: event.provider,
        kind: event.kind,
        ...(event.ref === undefined ? {} : { ref: event.ref }),
        ...(event.action === undefined ? {} : { action: event.action }),
      },
    },
    request.identity,
  );
  return {
    ...decision,
    provider: event.provider,
    repository: event.repository.fullName,
    kind: event.kind,
    ...(event.ref === undefined ? {} : { ref: event.ref }),
    ...(event.after === undefined ? {} : { after: event.after }),
    sender: request.identity.principal,
    senderLogin: event.sender.login,
  };
}
