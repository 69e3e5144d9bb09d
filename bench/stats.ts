// Latency and throughput figures from raw samples, the same way for every scenario.
export interface Figures {
  /** Completed operations per second. */
  throughput: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  count: number;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function summarize(latenciesMs: number[], elapsedMs: number): Figures {
  return {
    throughput: (latenciesMs.length * 1000) / elapsedMs,
    p50: percentile(latenciesMs, 50),
    p99: percentile(latenciesMs, 99),
    count: latenciesMs.length,
  };
}
