// What the docs tell a reader to run, open or set exists, checked by reading, never by running:
// every `npm run <script>` names a script of package.json and passes its arguments after `--`
// (npm keeps flags before it for itself), with flags the script's entry file reads; every CLI
// command is one src/cli.ts has; every `node --import tsx <file>` and every repository path or
// link names a file that exists (and a link's #anchor a heading of its page); every environment
// variable the processes read is documented somewhere.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envOverrides } from '../../../src/config/load-config.js';
import { tracingVariables } from '../../../src/telemetry/tracing.js';

const pages = [
  'README.md',
  ...readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
  'bench/README.md',
  'deploy/helm/gatehouse/README.md',
];
const text = new Map(pages.map((page) => [page, readFileSync(page, 'utf8')]));
const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;

/** Each finding, as `page: what`, so a failure names every wrong line at once. */
function findings(check: (page: string, body: string) => string[]): string[] {
  return pages.flatMap((page) => check(page, text.get(page)!).map((finding) => `${page}: ${finding}`));
}

/** Inline code spans and fenced blocks: where commands and paths are shown. */
function codeOf(body: string): string[] {
  const blocks = [...body.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
  const prose = body.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '');
  return [...blocks, ...[...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!)];
}

/** The file a script runs (`node --import tsx <file>`), whose flags it reads. */
function entryOf(script: string): string | undefined {
  return [...script.matchAll(/node --import tsx (\S+\.ts)/g)].at(-1)?.[1];
}

const cliCommands = [...readFileSync('src/cli.ts', 'utf8').matchAll(/command === '([a-z-]+)'/g)].map((m) => m[1]!);
/** The `gatehouse` command's subcommands (bin/gatehouse.js, src/command). */
const gatehouseCommands = readdirSync('src/command').flatMap((file) =>
  [...readFileSync(join('src/command', file), 'utf8').matchAll(/\.command\('([a-z-]+)'\)/g)].map((m) => m[1]!),
);

describe('the commands the docs show', () => {
  it('npm run names a script, and passes arguments after --', () => {
    const wrong = findings((_, body) =>
      [...body.matchAll(/npm run(?: -s| --silent)? ([a-z][\w:-]*)([^`\n|;&#)]*)/g)].flatMap(([shown, name, rest]) => {
        if (scripts[name!] === undefined) return [`${shown}: package.json has no script "${name}"`];
        const args = rest!.trim().split(/\s+/).filter(Boolean);
        if (args[0]?.startsWith('-') === true && args[0] !== '--')
          return [`${shown}: npm takes ${args[0]} for itself; write npm run ${name} -- ${args.join(' ')}`];
        if (args[0] !== '--') return [];
        const entry = entryOf(scripts[name!]!);
        const source = entry === undefined ? '' : readFileSync(entry, 'utf8');
        return args
          .filter((arg) => arg.startsWith('--') && arg.length > 2)
          .filter((flag) => !source.includes(`'${flag}'`) && !source.includes(`${flag.slice(2)}: {`))
          .map((flag) => `${shown}: ${entry ?? name} reads no ${flag}`);
      }),
    );
    expect(wrong).toEqual([]);
  });

  it('npm test is a script', () => {
    expect(pages.some((page) => text.get(page)!.includes('npm test'))).toBe(true);
    expect(scripts.test).toBeDefined();
  });

  it('CLI commands are commands of src/cli.ts, run by a file that exists', () => {
    expect(cliCommands).toContain('check-config');
    const wrong = findings((_, body) =>
      codeOf(body).flatMap((code) => [
        ...[...code.matchAll(/(?:src\/cli\.ts|dist\/src\/cli\.js) ([a-z][\w-]*)/g)]
          .filter(([, command]) => !cliCommands.includes(command!))
          .map(([shown]) => `${shown}: src/cli.ts has no such command (${cliCommands.join(', ')})`),
        // The `gatehouse` command (docs/cli.md) has these subcommands and no others.
        ...[...code.matchAll(/^gatehouse ([a-z-]+)/gm)]
          .filter(([, command]) => !gatehouseCommands.includes(command!))
          .map(([shown]) => `${shown}: the gatehouse command (src/command) has no such command`),
        ...[...code.matchAll(/node --import tsx (\S+\.ts)/g)]
          .filter(([, file]) => !existsSync(file!))
          .map(([shown]) => `${shown}: no such file`),
      ]),
    );
    expect(wrong).toEqual([]);
  });
});

describe('the files the docs name', () => {
  const repositoryPath = /^(?:src|test|docs|bench|scripts|haproxy|config|deploy|activities|workflows|\.ci)\/[\w./-]*$/;

  it('exist, when a code span or block names them', () => {
    const wrong = findings((_, body) =>
      codeOf(body)
        .flatMap((code) => code.split(/[\s(),;:"'=]+/))
        .map((word) => word.replace(/[.,:;]+$/, ''))
        .filter((word) => repositoryPath.test(word) && !existsSync(word))
        .map((word) => `${word} does not exist`),
    );
    expect(wrong).toEqual([]);
  });

  it('exist, when a page links to them, with the heading an anchor names', () => {
    const slug = (heading: string) =>
      heading
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-');
    const anchors = (file: string) =>
      new Set([...readFileSync(file, 'utf8').matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1]!)));
    const wrong = findings((page, body) =>
      [...body.matchAll(/\]\(([^)\s]+)\)/g)]
        .map((m) => m[1]!)
        .filter((target) => !/^[a-z]+:/.test(target))
        .flatMap((target) => {
          const [path, anchor] = target.split('#');
          const file = path === '' ? page : normalize(join(dirname(page), path!));
          if (!existsSync(file)) return [`${target}: ${file} does not exist`];
          if (anchor !== undefined && file.endsWith('.md') && !anchors(file).has(anchor))
            return [`${target}: ${file} has no heading #${anchor}`];
          return [];
        }),
    );
    expect(wrong).toEqual([]);
  });

  it('never point outside the repository', () => {
    const wrong = findings((_, body) =>
      [...body.matchAll(/(?:^|[\s`(])(\/(?:work|home|root|tmp\/bash_jobs)\/[\w./-]*)/g)].map(([, path]) => `${path}`),
    );
    expect(wrong).toEqual([]);
  });
});

describe('the environment the docs document', () => {
  const documented = [...text.values()].join('\n');
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return path === 'src/dev' ? [] : sources(path);
      return entry.name.endsWith('.ts') ? [path] : [];
    });
  const readIn = (files: string[]) =>
    files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\benv(?:\.|\[')([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!),
    );

  it('has every variable the bridge, the workers, the CLI and the edge read', () => {
    const read = new Set([
      ...envOverrides.map(([name]) => name),
      ...tracingVariables,
      ...readIn([...sources('src'), ...sources('activities')]),
      ...[...readFileSync('haproxy/haproxy.cfg', 'utf8').matchAll(/\$\{(EDGE_[A-Z0-9_]+)/g)].map((m) => m[1]!),
    ]);
    expect(read.size).toBeGreaterThan(30);
    expect([...read].filter((name) => !documented.includes(name))).toEqual([]);
  });

  it("has every knob of the benchmark in the benchmark's page", () => {
    const knobs = new Set(readIn(sources('bench')));
    expect(knobs.size).toBeGreaterThan(3);
    const page = text.get('bench/README.md')!;
    expect([...knobs].filter((name) => !page.includes(name))).toEqual([]);
  });
});
