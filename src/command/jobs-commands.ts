// Jobs: run a route, and list, read, cancel, rerun and follow jobs; and the routes the caller may start.
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { JobView } from '../client/index.js';
import type { Context } from './context.js';
import { CliError, exitCodes, jobExitCode } from './errors.js';
import { describeEvent, followJob } from './follow.js';
import type { Output } from './output.js';
import { problemError, unwrap, type Session } from './session.js';

/** The bridge caps one long-poll; the command asks again until the job closes. */
const waitSeconds = 30;

function readInput(source: string | undefined): unknown {
  if (source === undefined) return {};
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (error) {
    throw new CliError('GATEHOUSE_CLI_USAGE', 'Unreadable input', `${source}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError('GATEHOUSE_CLI_USAGE', 'Input is not JSON', `${source}: ${(error as Error).message}`);
  }
}

async function waitForJob(session: Session, jobId: string): Promise<JobView> {
  const client = session.client();
  for (;;) {
    const view = unwrap(
      await client.GET('/v1/jobs/{jobId}', { params: { path: { jobId }, query: { wait: waitSeconds } } }),
    );
    if (view.status !== 'RUNNING') return view;
  }
}

function showJob(out: Output, job: JobView): void {
  if (out.json) return out.data(job);
  out.record([
    ['job', job.jobId],
    ['status', out.statusText(job.status)],
    ['route', job.route],
    ['owner', job.owner],
    ['started', job.startedAt],
    ['closed', job.closedAt],
    [
      'failure',
      job.failure === undefined
        ? undefined
        : `${job.failure.message}${job.failure.type === undefined ? '' : ` (${job.failure.type})`}`,
    ],
    ['result', job.result === undefined ? undefined : JSON.stringify(job.result)],
  ]);
}

/** Prints the job's events as they come; answers the final state. */
async function follow(context: Context, command: Command, jobId: string): Promise<JobView | undefined> {
  const out = context.output(command);
  let final: JobView | undefined;
  for await (const event of followJob(context.sessionFor(command), jobId)) {
    if (event.event === 'status' && event.data.status !== 'RUNNING') final = event.data as unknown as JobView;
    if (out.json) out.line(JSON.stringify(event));
    else {
      const text = describeEvent(event);
      if (text !== undefined) out.line(text);
    }
  }
  if (final !== undefined && !out.json) showJob(out, final);
  return final;
}

export function jobsCommands(program: Command, context: Context): void {
  program
    .command('run')
    .description('Start a job on a route; with --wait or --follow, the exit code says how it ended')
    .argument('<route>', 'the route to start (see `gatehouse routes`)')
    .option('-i, --input <file>', 'the job input as a JSON file, or - for stdin (default: {})')
    .option('-k, --key <key>', 'an Idempotency-Key: starting again with the same key answers the same job')
    .addOption(new Option('-w, --wait', 'wait for the job to close and print its final state').conflicts('follow'))
    .option('-f, --follow', "print the job's events as they come (CI steps), then its final state")
    .addHelpText(
      'after',
      `
Exit codes with --wait or --follow: 0 completed, 1 failed/terminated/timed out, 3 canceled,
4 refused by the API, 5 edge unreachable, 6 signed out.

Examples:
  gatehouse run policy-check --input check.json --wait
  echo '{"repository":"acme/app","ref":"main"}' | gatehouse run ci --input - --follow
  gatehouse run ci --input ci.json --key "ci-$(git rev-parse HEAD)"`,
    )
    .action(
      async (
        route: string,
        options: { input?: string; key?: string; wait?: boolean; follow?: boolean },
        command: Command,
      ) => {
        const session = context.sessionFor(command);
        const body = readInput(options.input);
        const answer = await session.client().POST('/v1/jobs/{route}' as '/v1/jobs/ci', {
          params: { path: { route } } as never,
          body: body as never,
          headers: options.key === undefined ? {} : { 'idempotency-key': options.key },
        });
        await afterStart(context, command, unwrap(answer), options);
      },
    );

  const jobs = program.command('jobs').description('List, read, cancel and follow jobs');
  jobs
    .command('list')
    .description('Your jobs, newest first (admins: --owner for another principal)')
    .option('--route <route>', 'only this route')
    .addOption(
      new Option('--status <status>', 'only this status').choices([
        'RUNNING',
        'COMPLETED',
        'FAILED',
        'CANCELED',
        'TERMINATED',
        'TIMED_OUT',
      ]),
    )
    .option('--owner <principal>', "admins only: another principal's jobs")
    .option('--page-size <n>', 'how many', (v) => Number(v))
    .option('--page-token <token>', 'the next page, from a previous listing')
    .addHelpText(
      'after',
      "\nExamples:\n  gatehouse jobs list --status RUNNING\n  gatehouse jobs list --json | jq -r '.jobs[].jobId'",
    )
    .action(
      async (
        options: { route?: string; status?: 'RUNNING'; owner?: string; pageSize?: number; pageToken?: string },
        command: Command,
      ) => {
        const out = context.output(command);
        const list = unwrap(
          await context
            .sessionFor(command)
            .client()
            .GET('/v1/jobs', { params: { query: options } }),
        );
        if (out.json) return out.data(list);
        out.table(
          ['JOB', 'STATUS', 'ROUTE', 'STARTED'],
          list.jobs.map((job) => [job.jobId, out.statusText(job.status), job.route, job.startedAt]),
        );
        if (list.nextPageToken !== null) out.info(`more: --page-token ${list.nextPageToken}`);
      },
    );
  jobs
    .command('get')
    .description('A job: its status, and its result or failure once it closed')
    .argument('<jobId>')
    .option('-w, --wait', 'wait for the job to close; the exit code says how it ended')
    .addHelpText(
      'after',
      '\nExamples:\n  gatehouse jobs get ci.3f9a0c1d --json\n  gatehouse jobs get ci.3f9a0c1d --wait',
    )
    .action(async (jobId: string, options: { wait?: boolean }, command: Command) => {
      const session = context.sessionFor(command);
      const view =
        options.wait === true
          ? await waitForJob(session, jobId)
          : unwrap(await session.client().GET('/v1/jobs/{jobId}', { params: { path: { jobId } } }));
      showJob(context.output(command), view);
      if (options.wait === true) context.exitCode = jobExitCode(view.status);
    });
  jobs
    .command('cancel')
    .description('Ask a running job to cancel')
    .argument('<jobId>')
    .addHelpText('after', '\nExample:\n  gatehouse jobs cancel ci.3f9a0c1d')
    .action(async (jobId: string, _options: unknown, command: Command) => {
      const out = context.output(command);
      const answer = unwrap(
        await context
          .sessionFor(command)
          .client()
          .POST('/v1/jobs/{jobId}/cancel', { params: { path: { jobId } } }),
      );
      if (out.json) out.data(answer);
      else out.line(`${answer.jobId}\t${answer.status}`);
    });
  jobs
    .command('rerun')
    .description('Run a job again: a new job with the same route and input, linked to the first')
    .argument('<jobId>')
    .option('-k, --key <key>', 'an Idempotency-Key: rerunning again with the same key answers the same job')
    .option('--wait', 'wait until the new job closes and print its final state')
    .option('--follow', "print the new job's events as they come, then its final state")
    .addHelpText(
      'after',
      `
Exit codes with --wait or --follow are those of run.

Examples:
  gatehouse jobs rerun policy-check.3f9a0c1d --wait
  gatehouse jobs rerun ci.3f9a0c1d --key rerun-1 --follow`,
    )
    .action(async (jobId: string, options: { key?: string; wait?: boolean; follow?: boolean }, command: Command) => {
      const answer = await context
        .sessionFor(command)
        .client()
        .POST('/v1/jobs/{jobId}/rerun', {
          params: { path: { jobId } },
          headers: options.key === undefined ? {} : { 'idempotency-key': options.key },
        });
      await afterStart(context, command, unwrap(answer), options);
    });
  jobs
    .command('events')
    .description("Follow a job's events until it closes (one JSON object a line with --json)")
    .argument('<jobId>')
    .addHelpText('after', '\nExample:\n  gatehouse jobs events ci.3f9a0c1d')
    .action(async (jobId: string, _options: unknown, command: Command) => {
      const final = await follow(context, command, jobId);
      context.exitCode = final === undefined ? exitCodes.ok : jobExitCode(final.status);
    });

  program
    .command('routes')
    .description('The routes you may start, with each input schema')
    .argument('[route]', 'show this route only, with its input schema')
    .addHelpText('after', '\nExamples:\n  gatehouse routes\n  gatehouse routes policy-check --json')
    .action(async (only: string | undefined, _options: unknown, command: Command) => {
      const out = context.output(command);
      const session = context.sessionFor(command);
      // The caller's own OpenAPI document lists exactly the starts it may make.
      const response = await session.fetch(`${session.profile.url.replace(/\/+$/, '')}/openapi.json`, {
        headers: { authorization: `Bearer ${await session.token()}` },
      });
      const document = (await response.json().catch(() => undefined)) as OpenApiDocument | undefined;
      if (!response.ok || document === undefined) throw problemError(response, document);
      const routes = startRoutes(document).filter((r) => only === undefined || r.route === only);
      if (only !== undefined && routes.length === 0)
        throw new CliError(
          'GATEHOUSE_CLI_NO_SUCH_ROUTE',
          'No such route',
          `"${only}" is not a route you may start`,
          exitCodes.refused,
        );
      if (out.json) return out.data(routes);
      if (only !== undefined) {
        out.line(`${routes[0]!.route}\t${routes[0]!.summary}`);
        return out.data(routes[0]!.input);
      }
      out.table(
        ['ROUTE', 'SUMMARY'],
        routes.map((r) => [r.route, r.summary]),
      );
    });
}

interface OpenApiDocument {
  paths?: Record<
    string,
    {
      post?: {
        operationId?: string;
        summary?: string;
        requestBody?: { content?: Record<string, { schema?: unknown }> };
      };
    }
  >;
  components?: { schemas?: Record<string, unknown> };
}

/** The start operations of a document, with input schemas whose refs into components are inlined. */
function startRoutes(document: OpenApiDocument): Array<{ route: string; summary: string; input: unknown }> {
  const schemas = document.components?.schemas ?? {};
  const inline = (node: unknown, depth = 0): unknown => {
    if (Array.isArray(node)) return node.map((item) => inline(item, depth));
    if (typeof node !== 'object' || node === null) return node;
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && ref.startsWith('#/components/schemas/') && depth < 8)
      return inline(schemas[ref.slice('#/components/schemas/'.length)], depth + 1);
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, inline(value, depth)]));
  };
  return Object.entries(document.paths ?? {})
    .filter(([path, item]) => path.startsWith('/v1/jobs/') && item.post?.operationId?.startsWith('start-') === true)
    .map(([path, item]) => ({
      route: path.slice('/v1/jobs/'.length),
      summary: item.post!.summary ?? '',
      input: inline(item.post!.requestBody?.content?.['application/json']?.schema ?? {}),
    }));
}

/** What run and jobs rerun do once the job has started: follow it, wait for it, or print its id. */
async function afterStart(
  context: Context,
  command: Command,
  started: { jobId: string },
  options: { wait?: boolean; follow?: boolean },
): Promise<void> {
  const out = context.output(command);
  if (options.follow === true) {
    const final = await follow(context, command, started.jobId);
    context.exitCode = final === undefined ? exitCodes.unreachable : jobExitCode(final.status);
  } else if (options.wait === true) {
    const final = await waitForJob(context.sessionFor(command), started.jobId);
    showJob(out, final);
    context.exitCode = jobExitCode(final.status);
  } else if (out.json) out.data(started);
  else out.line(started.jobId);
}
