// For admins: the webhook delivery log (list, show, replay); and for anyone testing a hook,
// `webhook sign`, which signs a payload file the way a provider would.
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { Context } from './context.js';
import { CliError } from './errors.js';
import { unwrap } from './session.js';

export function adminCommands(program: Command, context: Context): void {
  const deliveries = program.command('deliveries').description('Admins: the webhook delivery log, and replays');
  deliveries
    .command('list')
    .description('Deliveries, newest first')
    .option('--provider <provider>', 'github, gitlab, gitea or bitbucket')
    .option('--hook <hook>', 'a configured hook name')
    .addOption(
      new Option('--outcome <outcome>').choices([
        'accepted',
        'duplicate',
        'ignored',
        'rejected',
        'unavailable',
        'redelivery_requested',
      ]),
    )
    .option('--repository <owner/name>')
    .option('--since <time>', 'an RFC 3339 time')
    .option('--page-size <n>', 'how many', (v) => Number(v))
    .option('--page-token <token>')
    .addHelpText(
      'after',
      '\nExamples:\n  gatehouse deliveries list --outcome rejected\n  gatehouse deliveries list --provider github --json',
    )
    .action(async (options: Record<string, string | number | undefined>, command: Command) => {
      const out = context.output(command);
      const list = unwrap(
        await context
          .sessionFor(command)
          .client()
          .GET('/v1/webhooks/deliveries', { params: { query: options as never } }),
      );
      if (out.json) return out.data(list);
      out.table(
        ['ID', 'RECEIVED', 'PROVIDER', 'HOOK', 'EVENT', 'OUTCOME', 'JOB'],
        list.deliveries.map((d) => [
          d.id,
          d.receivedAt,
          d.provider,
          d.hook,
          d.event ?? '',
          out.statusText(d.outcome),
          d.jobId ?? '',
        ]),
      );
      if (list.nextPageToken !== null) out.info(`more: --page-token ${list.nextPageToken}`);
    });
  deliveries
    .command('show')
    .description('One delivery record')
    .argument('<id>')
    .addHelpText('after', '\nExample:\n  gatehouse deliveries show 01JF3Z6W0Y8Q --json')
    .action(async (id: string, _options: unknown, command: Command) => {
      const out = context.output(command);
      const record = unwrap(
        await context
          .sessionFor(command)
          .client()
          .GET('/v1/webhooks/deliveries/{id}', { params: { path: { id } } }),
      );
      if (out.json) return out.data(record);
      out.record(
        Object.entries(record).map(([key, value]) => [
          key,
          value === null ? undefined : typeof value === 'string' ? value : JSON.stringify(value),
        ]),
      );
    });
  deliveries
    .command('replay')
    .description("Start a delivery's job again (refused while one runs or after one succeeded, unless --force)")
    .argument('<id>')
    .option('--force', 'replay even when a job of this delivery is running or has succeeded')
    .option('-k, --key <key>', 'an Idempotency-Key: a retried replay answers the same job')
    .addHelpText('after', '\nExample:\n  gatehouse deliveries replay 01JF3Z6W0Y8Q --key replay-1')
    .action(async (id: string, options: { force?: boolean; key?: string }, command: Command) => {
      const out = context.output(command);
      const answer = unwrap(
        await context
          .sessionFor(command)
          .client()
          .POST('/v1/webhooks/deliveries/{id}/replay', {
            params: { path: { id } },
            body: { force: options.force === true },
            headers: options.key === undefined ? {} : { 'idempotency-key': options.key },
          }),
      );
      if (out.json) out.data(answer);
      else out.line(answer.jobId);
    });

  const webhook = program.command('webhook').description('Test a hook end to end');
  webhook
    .command('sign')
    .description(
      'Print the headers a provider would send with a payload file (the secret from GATEHOUSE_WEBHOOK_SECRET)',
    )
    .argument('<file>', 'the payload (JSON), or - for stdin')
    .addOption(
      new Option('--provider <provider>').choices(['github', 'gitlab', 'gitea', 'bitbucket']).makeOptionMandatory(),
    )
    .requiredOption('--event <event>', "the provider's event name (push, Push Hook, repo:push...)")
    .addHelpText(
      'after',
      `
The secret is read from GATEHOUSE_WEBHOOK_SECRET (never from the command line, where ps shows it).
Each header is printed as "name: value", ready for curl -H; --json prints {"headers", "body"}.

Example:
  GATEHOUSE_WEBHOOK_SECRET=... gatehouse webhook sign push.json --provider github --event push \\
    | sed 's/^/-H\\n/' | xargs -d '\\n' curl --data-binary @push.json https://gatehouse.example.com/v1/webhooks/github`,
    )
    .action((file: string, options: { provider: Provider; event: string }, command: Command) => {
      const out = context.output(command);
      const secret = context.env.GATEHOUSE_WEBHOOK_SECRET;
      if (secret === undefined || secret === '')
        throw new CliError('GATEHOUSE_CLI_USAGE', 'No secret', 'set GATEHOUSE_WEBHOOK_SECRET to the hook secret');
      let body: string;
      try {
        body = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (error) {
        throw new CliError('GATEHOUSE_CLI_USAGE', 'Unreadable payload', `${file}: ${(error as Error).message}`);
      }
      const headers = providerHeaders(options.provider, options.event, secret, body);
      if (out.json) return out.data({ headers, body });
      for (const [name, value] of Object.entries(headers)) out.line(`${name}: ${value}`);
    });
}

type Provider = 'github' | 'gitlab' | 'gitea' | 'bitbucket';

/** The headers each provider signs a delivery with: an HMAC-SHA256 of the raw body, or GitLab's token. */
export function providerHeaders(
  provider: Provider,
  event: string,
  secret: string,
  body: string,
): Record<string, string> {
  const hmac = createHmac('sha256', secret).update(body).digest('hex');
  const id = randomUUID();
  const json = { 'content-type': 'application/json' };
  switch (provider) {
    case 'github':
      return { ...json, 'x-github-event': event, 'x-github-delivery': id, 'x-hub-signature-256': `sha256=${hmac}` };
    case 'gitea':
      return { ...json, 'x-gitea-event': event, 'x-gitea-delivery': id, 'x-gitea-signature': hmac };
    case 'bitbucket':
      return { ...json, 'x-event-key': event, 'x-request-uuid': `{${id}}`, 'x-hub-signature': `sha256=${hmac}` };
    case 'gitlab':
      return { ...json, 'x-gitlab-event': event, 'x-gitlab-event-uuid': id, 'x-gitlab-token': secret };
  }
}
