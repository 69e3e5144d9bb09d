// Commit-status reporting through each provider's REST API: one neutral call, and the provider
// registry knows each wire shape (src/providers/<name>/status-api.ts). A 5xx, a 429 or a network
// error is retryable (StatusApiUnavailable); any other 4xx cannot be fixed by retrying
// (StatusReportRejected). Each call is a `commit-status` client span (provider, state, the
// server and its answer); no trace context is sent to the provider.
import { SpanKind } from '@opentelemetry/api';
import type { StatusReport, CommitState } from '../src/core/commit-status.js';
import { fail } from '../src/core/failures.js';
import type { StatusApiAccess } from '../src/providers/provider.js';
import { isProviderName, providers, type ProviderName } from '../src/providers/registry.js';
import { inSpan } from './tracing.js';

export type StatusApis = Partial<Record<ProviderName, StatusApiAccess>>;

export function createCommitStatusActivities(apis: StatusApis, fetchTimeoutMs: number) {
  return {
    async reportCommitStatus(report: StatusReport): Promise<{ provider: string; state: CommitState; status: number }> {
      const api = isProviderName(report.provider) ? apis[report.provider] : undefined;
      if (api === undefined || !isProviderName(report.provider)) {
        throw fail('StatusReportUnconfigured', `no status API configured for ${report.provider}`);
      }
      const { url, body, headers } = providers[report.provider].statusRequest(report, api);
      const attributes = {
        'gatehouse.provider': report.provider,
        'gatehouse.commit_status.state': report.state,
        'http.request.method': 'POST',
        'server.address': URL.parse(url)?.host ?? '',
      };
      return inSpan(`commit-status ${report.provider}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
        const answer = await post(report, url, body, headers);
        span.setAttribute('http.response.status_code', answer.status);
        return answer;
      });
    },
  };

  async function post(
    report: StatusReport,
    url: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<{ provider: string; state: CommitState; status: number }> {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(fetchTimeoutMs),
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'user-agent': 'gatehouse',
          ...headers,
        },
      });
    } catch (error) {
      throw fail('StatusApiUnavailable', `${report.provider} status API unreachable: ${(error as Error).message}`, {
        cause: error as Error,
      });
    }
    if (response.ok) return { provider: report.provider, state: report.state, status: response.status };
    const text = (await response.text()).slice(0, 300);
    if (response.status >= 500 || response.status === 429)
      throw fail('StatusApiUnavailable', `${report.provider} status API answered ${response.status}: ${text}`);
    throw fail('StatusReportRejected', `${report.provider} refused the status (${response.status}): ${text}`);
  }
}
