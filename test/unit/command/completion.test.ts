// Shell completion is generated from the commander program itself: each script names every
// command and subcommand under its parent and every option of each, a command added to the
// program appears in the scripts without anything else changing, and `gatehouse completion`
// prints the script for the shell it is asked for. (bash, zsh and fish run the scripts in
// test/tools/completion.test.ts.)
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { completionScript, shells } from '../../../src/command/completion-scripts.js';
import { completionTree } from '../../../src/command/completion-tree.js';
import { Context } from '../../../src/command/context.js';
import { buildProgram, runCommand } from '../../../src/command/program.js';

function sink() {
  const sink = { text: '', write: (chunk: string) => ((sink.text += chunk), true) };
  return sink;
}
const env = { XDG_CONFIG_HOME: '/nonexistent/gatehouse-test' };
const program = () => buildProgram(new Context({ stdout: sink() as never, stderr: sink() as never, env }));

/** Every command below the root, read from commander's own tree: [parent path, name, long options]. */
function commandsOf(command: Command, path: string[] = []): Array<{ parent: string; name: string; longs: string[] }> {
  return command.commands.flatMap((sub) => [
    {
      parent: path.join(' '),
      name: sub.name(),
      longs: sub.options.map((option) => option.long).filter((long): long is string => long !== undefined),
    },
    ...commandsOf(sub, [...path, sub.name()]),
  ]);
}

/** Where each script names a subcommand under its parent, and an option of a command. */
const expectations = {
  bash: {
    command: (parent: string, name: string) =>
      new RegExp(`^    '${parent}'\\) echo '(?:[a-z-]+ )*${name}(?: [a-z-]+)*' ;;$`, 'm'),
    option: (path: string, long: string) => new RegExp(`^    '${path}'\\) echo '(?:[^']* )?${long}(?= |')`, 'm'),
  },
  zsh: {
    command: (parent: string, name: string) => new RegExp(`^    '${parent}'\\) reply=\\(.*'${name}:`, 'm'),
    option: (path: string, long: string) => new RegExp(`^    '${path}'\\) reply=\\(.*'${long}:`, 'm'),
  },
  fish: {
    command: (parent: string, name: string) =>
      new RegExp(`^complete -c gatehouse -f -n '__gatehouse_at \\\\'${parent}\\\\'' -a '${name}' -d `, 'm'),
    option: (path: string, long: string) =>
      new RegExp(`^complete -c gatehouse (?:-f )?-n '__gatehouse_at \\\\'${path}\\\\''.* -l '${long.slice(2)}'`, 'm'),
  },
} as const;

describe('shell completion', () => {
  const commands = commandsOf(program());

  it('knows the commands the program has (a sanity check of the walk itself)', () => {
    expect(commands.map((c) => [c.parent, c.name].join(' ').trim())).toEqual(
      expect.arrayContaining(['login', 'jobs list', 'jobs events', 'profile set', 'deliveries replay', 'completion']),
    );
    expect(commands.length).toBeGreaterThanOrEqual(20);
  });

  it.each(shells)('%s: names every command and subcommand under its parent, and every option', (shell) => {
    const script = completionScript(shell, completionTree(program()));
    const missing = commands.flatMap(({ parent, name, longs }) => {
      const path = [parent, name].join(' ').trim();
      return [
        ...(expectations[shell].command(parent, name).test(script) ? [] : [`command "${path}"`]),
        ...longs.filter((long) => !expectations[shell].option(path, long).test(script)).map((l) => `${path} ${l}`),
      ];
    });
    expect(missing).toEqual([]);
  });

  it.each(shells)('%s: a command added to the program is in the script, with no other change', (shell) => {
    const grown = program();
    grown.command('rerun-all').description('A command made up for this test').option('--dry-run', 'only say');
    grown.commands
      .find((c) => c.name() === 'jobs')!
      .command('tail')
      .description('Also made up');
    const script = completionScript(shell, completionTree(grown));
    expect(script).toMatch(expectations[shell].command('', 'rerun-all'));
    expect(script).toMatch(expectations[shell].option('rerun-all', '--dry-run'));
    expect(script).toMatch(expectations[shell].command('jobs', 'tail'));
    expect(completionScript(shell, completionTree(program()))).not.toContain('rerun-all');
  });

  it('offers the allowed words and files for option values and arguments', () => {
    const tree = completionTree(program());
    const at = (path: string) => {
      let node = tree;
      for (const name of path.split(' ').filter(Boolean)) node = node.commands.find((c) => c.name === name)!;
      return node;
    };
    const option = (path: string, long: string) => at(path).options.find((o) => o.flags.includes(long))?.value;
    expect(option('jobs list', '--status')).toEqual({
      kind: 'choice',
      words: ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'TERMINATED', 'TIMED_OUT'],
    });
    expect(option('run', '--input')).toEqual({ kind: 'file' });
    expect(option('profile set', '--ca')).toEqual({ kind: 'file' });
    // Global options reach every subcommand, as commander parses them there too.
    expect(option('jobs list', '--profile')).toEqual({ kind: 'any' });
    expect(option('jobs list', '--json')).toBeUndefined();
    expect(at('jobs list').options.some((o) => o.flags.includes('--json'))).toBe(true);
    expect(at('completion').argument).toEqual({ kind: 'choice', words: ['bash', 'zsh', 'fish'] });
    expect(at('webhook sign').argument).toEqual({ kind: 'file' });
    expect(at('jobs help').argument).toEqual({ kind: 'choice', words: ['list', 'get', 'cancel', 'rerun', 'events'] });
  });

  it('`gatehouse completion <shell>` prints that script; another shell is a usage error', async () => {
    const stdout = sink();
    const stderr = sink();
    const streams = { stdout: stdout as never, stderr: stderr as never, env };
    expect(await runCommand(['completion', 'zsh'], streams)).toBe(0);
    expect(stdout.text).toBe(completionScript('zsh', completionTree(program())));
    expect(stdout.text.startsWith('#compdef gatehouse\n')).toBe(true);
    expect(await runCommand(['completion', 'tcsh'], streams)).toBe(2);
    expect(stderr.text).toContain("'tcsh' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish.");
  });
});
