// Job statuses as the API spells them (Temporal's own enum names, without the prefix).

export const jobStatuses = [
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELED',
  'TERMINATED',
  'TIMED_OUT',
  'CONTINUED_AS_NEW',
] as const;
export type JobStatus = (typeof jobStatuses)[number];

/** The SDK spells one status CANCELLED; the API (and Temporal's own enum) say CANCELED. */
export function contractStatus(name: string): string {
  return name === 'CANCELLED' ? 'CANCELED' : name;
}
