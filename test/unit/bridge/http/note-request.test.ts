// What a handler learns about a request (noteRequest) reaches every later log line of the request,
// through the request's own logger: no second child logger is made for it, since a long-poll holds
// its logger for as long as it waits.
import Fastify from 'fastify';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { noteRequest, requestLogger } from '../../../../src/bridge/http/request-tracing.js';

describe('noteRequest', () => {
  it("binds the job id to the request's own logger, on every later line of that request only", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const app = Fastify({ loggerInstance: pino(sink), childLoggerFactory: requestLogger, disableRequestLogging: true });
    const loggers: unknown[] = [];
    app.get('/jobs/:jobId', async (request) => {
      const before = request.log;
      noteRequest(request, { jobId: (request.params as { jobId: string }).jobId });
      loggers.push(before === request.log);
      request.log.info('read');
      return {};
    });
    await app.inject({ method: 'GET', url: '/jobs/job-1' });
    await app.inject({ method: 'GET', url: '/jobs/job-2' });
    await app.close();
    expect(loggers).toEqual([true, true]);
    const reads = lines.filter((line) => line.msg === 'read');
    expect(reads.map((line) => line.jobId)).toEqual(['job-1', 'job-2']);
    expect(new Set(reads.map((line) => line.reqId)).size).toBe(2);
  });
});
