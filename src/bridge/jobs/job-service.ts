// The job service: the one way the HTTP layer reaches jobs. The jobs API and the webhook intake
// start jobs through it; reads, waits, lists and cancels go through it too, and every one of them
// asks the access module (src/core/access.ts) first. Route handlers stay a few lines each. Event
// streams (job-streams.ts) are ended by preClose, so a shutdown does not wait on them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import { mayLookUpDeliveries, ownerScope, type AccessRules, type Caller } from '../../core/access.js';
import type { GatehouseConfig } from '../../config/load-config.js';
import { durationMs } from '../../config/duration.js';
import { GatehouseError } from '../errors.js';
import { cancelJob, type CancelAnswer } from './cancel-job.js';
import { jobCallbacks } from './job-callback.js';
import { JobStreams } from './job-streams.js';
import { listJobs, type ListJobsQuery } from './list-jobs.js';
import { jobNotFound, waitForJob, type ClientConnection } from './read-job.js';
import { startJob, type JobStart, type StartedJob } from './start-job.js';
import { isJobId } from '../../core/job-id.js';
import type { JobView } from '../../core/job-view.js';

export type JobPage = { jobs: JobView[]; nextPageToken: string | null };

export interface JobService {
  readonly rules: AccessRules;
  /**
   * Starts the route's workflow (or answers the job the same key already started). A callback
   * URL the caller asked for is checked first: refused, nothing starts.
   */
  start(http: FastifyRequest, job: Omit<JobStart, 'routeConfig' | 'callback'>): Promise<StartedJob>;
  /** One job the caller may see; with `waitMs`, long-polls until it closes or `connection` closes. 404 otherwise. */
  read(caller: Caller, jobId: string, waitMs: number, connection: ClientConnection): Promise<JobView>;
  /** Streams the job's events on the reply (Server-Sent Events), from after Last-Event-ID. 404 as read. */
  stream(caller: Caller, jobId: string, lastEventId: string | string[] | undefined, reply: FastifyReply): Promise<void>;
  /** The bridge starts draining: end every stream now (clients resume elsewhere) and open no more. */
  drainStreams(): void;
  /** The caller's jobs, or (admins) another owner's. */
  list(caller: Caller, query: Omit<ListJobsQuery, 'delivery'>): Promise<JobPage>;
  cancel(caller: Caller, jobId: string): Promise<CancelAnswer>;
  /** The jobs a webhook delivery started (operators only). */
  ofDelivery(caller: Caller, deliveryId: string): Promise<JobPage>;
}

declare module 'fastify' {
  interface FastifyInstance {
    jobs: JobService;
  }
}

async function jobServicePlugin(app: FastifyInstance, opts: { config: GatehouseConfig }) {
  const { routes } = opts.config;
  const rules: AccessRules = { adminGroups: opts.config.admins.groups };
  const callbacks = jobCallbacks(opts.config);
  // Clients long-polling ?wait, and the Temporal long-polls they share (one per job run).
  new Gauge({
    name: 'gatehouse_job_waiters',
    help: 'Clients waiting on ?wait, by what is counted (clients, or the Temporal long-polls they share)',
    labelNames: ['kind'],
    registers: [app.metrics.registry],
    collect() {
      // The close polls: ?wait clients, and the streams' watches of jobs without a progress log.
      const { followers, polls } = app.temporal.runs.counts('close');
      this.set({ kind: 'clients' }, followers);
      this.set({ kind: 'polls' }, polls);
    },
  });
  const { limits } = opts.config;
  const streams = new JobStreams(
    app.temporal,
    rules,
    {
      heartbeatMs: durationMs(limits.streamHeartbeat),
      maxDurationMs: durationMs(limits.streamMaxDuration),
      maxStreams: limits.maxStreams,
      maxPerCaller: limits.maxStreamsPerCaller,
      maxWatches: limits.maxStreamWatches,
      maxWatchesPerCaller: limits.maxStreamWatchesPerCaller,
    },
    app.log,
  );
  // Streams end first, asking their clients to come back elsewhere; then the server can close.
  app.addHook('preClose', async () => streams.closeAll('the bridge is shutting down; reconnect with Last-Event-ID'));
  new Gauge({
    name: 'gatehouse_job_streams',
    help: 'Open job event streams (clients), the runs they watch in Temporal (watches), and closed runs whose log is kept (cached_logs)',
    labelNames: ['kind'],
    registers: [app.metrics.registry],
    collect() {
      const counts = streams.counts();
      this.set({ kind: 'clients' }, counts.streams);
      this.set({ kind: 'watches' }, counts.watches);
      this.set({ kind: 'cached_logs' }, counts.cachedLogs);
    },
  });
  const visibleId = (jobId: string) => {
    if (!isJobId(jobId)) throw jobNotFound();
    return jobId;
  };
  const service: JobService = {
    rules,
    async start(http, job) {
      const routeConfig = routes[job.route];
      if (routeConfig === undefined)
        throw new GatehouseError('GATEHOUSE_UNKNOWN_ROUTE', `There is no job route named "${job.route}"`);
      const callback = callbacks.resolve(job.route, job.identity, job.callbackUrl);
      try {
        const started = await startJob(app.temporal, http, {
          ...job,
          routeConfig,
          ...(callback === undefined ? {} : { callback }),
        });
        app.metrics.jobStarts.inc({ route: job.route, outcome: started.replayed ? 'replayed' : 'started' });
        return started;
      } catch (error) {
        if (error instanceof GatehouseError && error.code === 'GATEHOUSE_IDEMPOTENCY_KEY_REUSED') {
          app.metrics.jobStarts.inc({ route: job.route, outcome: 'conflict' });
        }
        throw error;
      }
    },
    read: (caller, jobId, waitMs, connection) =>
      waitForJob(app.temporal, visibleId(jobId), caller, rules, waitMs, connection),
    stream: (caller, jobId, lastEventId, reply) => streams.serve(caller, visibleId(jobId), lastEventId, reply),
    drainStreams: () => streams.closeAll('the bridge is draining; reconnect with Last-Event-ID'),
    list(caller, query) {
      const owner = ownerScope(caller, query.owner, rules);
      if (owner === undefined)
        throw new GatehouseError('GATEHOUSE_FORBIDDEN', "Only admins may list another owner's jobs");
      return listJobs(app.temporal, { ...query, owner });
    },
    cancel: (caller, jobId) => cancelJob(app.temporal, visibleId(jobId), caller, rules),
    ofDelivery(caller, deliveryId) {
      if (!mayLookUpDeliveries(caller, rules))
        throw new GatehouseError('GATEHOUSE_FORBIDDEN', 'Only admins may look up deliveries');
      return listJobs(app.temporal, { delivery: deliveryId.slice(0, 255), pageSize: 20 });
    },
  };
  app.decorate('jobs', service);
}

export default fp(jobServicePlugin, {
  name: 'gatehouse-jobs',
  dependencies: ['gatehouse-temporal', 'gatehouse-metrics'],
});
