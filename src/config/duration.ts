// Durations in the config file are strings such as `30s` or `10m`; this is the one place that
// turns them into milliseconds.

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function durationMs(text: string): number {
  const match = /^([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (match === null) throw new RangeError(`not a duration: ${JSON.stringify(text)}`);
  return Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
}
