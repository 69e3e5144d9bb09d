// Webhook answers: 202 when a workflow was started or already existed for the delivery, 200 when
// the delivery was a ping or matched no rule (so the provider does not retry it).
import Type from 'typebox';
import { JobLinks } from '../jobs/job-schemas.js';

export const WebhookAccepted = Type.Object({
  jobId: Type.String(),
  runId: Type.String(),
  route: Type.String(),
  duplicate: Type.Boolean({ description: 'true when this delivery had already started the job' }),
  links: JobLinks,
});

export const WebhookIgnored = Type.Object({ ignored: Type.String() });
