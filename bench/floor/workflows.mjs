// The floor's one workflow: it calls one activity, which returns its input. Nothing of Gatehouse.
import { proxyActivities } from '@temporalio/workflow';

const { echo } = proxyActivities({ startToCloseTimeout: '10 seconds' });

export async function trivial(input) {
  return echo(input);
}
