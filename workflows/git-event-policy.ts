// gitEventPolicy: the policy gate for a Git provider event. May this sender run CI on this
// repository and ref? Cedar answers; the decision, the deciding policies and a summary of the
// event are the job's result, for audit. (The CI pipeline builds on this gate.)
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { PolicyDecision } from '../activities/policy.js';
import type { GitEvent, JobRequest } from '../activities/types.js';

const { evaluatePolicy } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
});

export interface GitEventPolicyResult extends PolicyDecision {
  provider: GitEvent['provider'];
  repository: string;
  kind: GitEvent['kind'];
  ref?: string;
  after?: string;
  sender: string;
}

export async function gitEventPolicy(request: JobRequest<GitEvent>): Promise<GitEventPolicyResult> {
  const event = request.input;
  const decision = await evaluatePolicy({
    action: { type: 'Gatehouse::Action', id: 'run-ci' },
    resource: { type: 'Gatehouse::Repository', id: event.repository.fullName },
    context: {
      provider: event.provider,
      kind: event.kind,
      ...(event.ref === undefined ? {} : { ref: event.ref }),
      ...(event.action === undefined ? {} : { action: event.action }),
    },
  }, request.identity);
  return {
    ...decision,
    provider: event.provider,
    repository: event.repository.fullName,
    kind: event.kind,
    ...(event.ref === undefined ? {} : { ref: event.ref }),
    ...(event.after === undefined ? {} : { after: event.after }),
    sender: event.sender.login,
  };
}
