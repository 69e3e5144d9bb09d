// The Temporal client: one lazy connection per process, shared by every request, closed in onClose;
// address, TLS and API key from the config (src/config/temporal-connection.ts). Calls go through
// the gateway (src/temporal/gateway.ts): under a deadline, an outage thrown as TemporalUnavailable,
// which the error handler answers as a 503; runs are followed by one RunFollower per process.
// With tracing on, the client's OpenTelemetry interceptor makes a StartWorkflow span (a child of
// the request's) and carries its context to the workflow in the start's headers.
import { Client, Connection, type ClientInterceptors } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { GatehouseConfig } from '../../config/load-config.js';
import { durationMs } from '../../config/duration.js';
import { temporalConnectionOptions } from '../../config/temporal-connection.js';
import type { Tracing } from '../../telemetry/tracing.js';
import { createTemporalGateway, type TemporalGateway } from '../../temporal/gateway.js';
import { RunFollower } from '../../temporal/run-follower.js';
import { SharedDescribes } from '../../temporal/shared-describes.js';

export interface BridgeTemporal extends TemporalGateway {
  /** Every run followed on this bridge: ?wait long-polls and event streams share its polls. */
  readonly runs: RunFollower;
  /** Describes that concurrent ?wait readers of one job share. */
  readonly describes: SharedDescribes;
  /** Whether the frontend answers a health check now; cached briefly so probes cannot flood it. */
  isReady(): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyInstance {
    temporal: BridgeTemporal;
  }
}

const readinessCacheMs = 1_000;

async function temporalPlugin(app: FastifyInstance, opts: { config: GatehouseConfig; tracing?: Tracing }) {
  const { namespace } = opts.config.temporal;
  const requestTimeoutMs = durationMs(opts.config.temporal.requestTimeout);
  // Short reconnect backoff: after an outage the bridge must notice the frontend is back within
  // seconds, not after grpc-js's default two-minute maximum backoff.
  const connection = Connection.lazy({
    ...temporalConnectionOptions(opts.config),
    connectTimeout: requestTimeoutMs,
    channelArgs: {
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 2_000,
      'grpc.keepalive_time_ms': 30_000,
    },
  });
  const client = new Client({ connection, namespace, interceptors: await clientInterceptors(opts.tracing) });
  let readiness: { at: number; ready: Promise<boolean> } | undefined;

  const gateway = createTemporalGateway(client, { namespace, requestTimeoutMs });
  const temporal: BridgeTemporal = {
    ...gateway,
    runs: new RunFollower(gateway),
    describes: new SharedDescribes(gateway),
    isReady() {
      const now = Date.now();
      if (readiness === undefined || now - readiness.at > readinessCacheMs) {
        const ready = gateway
          .call(() => connection.healthService.check({}), { timeoutMs: Math.min(requestTimeoutMs, 2_000) })
          .then(
            (answer) => answer.status === 1 /* SERVING */,
            () => false,
          );
        readiness = { at: now, ready };
      }
      return readiness.ready;
    },
  };

  app.decorate('temporal', temporal);
  app.addHook('onClose', async () => {
    await connection.close();
  });
}

/** The tracing interceptor when the process traces (loaded only then), none otherwise. */
async function clientInterceptors(tracing: Tracing | undefined): Promise<ClientInterceptors> {
  if (tracing?.enabled !== true) return {};
  const { OpenTelemetryWorkflowClientInterceptor } =
    await import('@temporalio/interceptors-opentelemetry/lib/client/index.js');
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

export default fp(temporalPlugin, { name: 'gatehouse-temporal' });
