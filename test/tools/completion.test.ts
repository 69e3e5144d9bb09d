// The completion scripts in the shells they are for: bash accepts the script (`bash -n`) and so do
// zsh and fish, and each completes real command lines: subcommands after a global option that
// takes a value, an option's allowed words, files for a file, and arguments. bash and zsh run the
// script's own function with the shell's completion variables set as the shell would set them
// (zsh's menu builtins print what they are given); fish answers `complete -C` itself.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Shell } from '../../src/command/completion-scripts.js';
import { runCommand } from '../../src/command/program.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-completion-'));
const scripts = {} as Record<Shell, string>;

beforeAll(async () => {
  writeFileSync(join(dir, 'input.json'), '{}');
  writeFileSync(join(dir, 'input.yaml'), '');
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    let text = '';
    const stdout = { write: (chunk: string) => ((text += chunk), true) };
    const code = await runCommand(['completion', shell], {
      stdout: stdout as never,
      stderr: process.stderr,
      env: { XDG_CONFIG_HOME: dir },
    });
    expect(code).toBe(0);
    scripts[shell] = join(dir, `gatehouse.${shell}`);
    writeFileSync(scripts[shell], text);
  }
});

/** Drivers: the words of `line` (a trailing space starts a new, empty word), then the completions. */
const drivers = {
  bash: `source "$1"; read -ra COMP_WORDS <<< "$2"; [[ $2 == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _gatehouse; printf '%s\\n' "\${COMPREPLY[@]}"`,
  zsh: `compdef() { :; }; _describe() { print -rl -- "\${(@)\${(@P)\${@[-1]}}%%:*}"; }
compadd() { shift; print -rl -- "$@"; }; _files() { print -rl -- "$PWD"/*(N); }
source "$1"; words=(\${(z)2}); [[ $2 == *' ' ]] && words+=(''); CURRENT=\${#words}; _gatehouse`,
  // string replace answers 1 when no line had a description to cut.
  fish: `source $argv[1]; complete -C $argv[2] | string replace -r '\\t.*' ''; true`,
};

function complete(shell: Shell, line: string): string[] {
  const args =
    shell === 'fish' ? ['-c', drivers.fish, scripts.fish, line] : ['-c', drivers[shell], shell, scripts[shell], line];
  // zsh -f: no user or system startup files.
  const output = execFileSync(shell, shell === 'zsh' ? ['-f', ...args] : args, { cwd: dir, encoding: 'utf8' });
  return output.split('\n').filter(Boolean);
}

describe.each(['bash', 'zsh', 'fish'] as const)('%s completion', (shell) => {
  it('is accepted by the shell', () => {
    const check = { bash: ['-n'], zsh: ['-n'], fish: ['--no-execute'] }[shell];
    expect(() => execFileSync(shell, [...check, scripts[shell]], { encoding: 'utf8' })).not.toThrow();
  });

  it('completes commands, subcommands and options', () => {
    expect(complete(shell, 'gatehouse ')).toEqual(
      expect.arrayContaining(['login', 'run', 'jobs', 'routes', 'deliveries', 'webhook', 'completion']),
    );
    expect(complete(shell, 'gatehouse jobs ').sort()).toEqual(['cancel', 'events', 'get', 'help', 'list', 'rerun']);
    // -p takes a value: "dev" is that value, not a command, and jobs is still found.
    expect(complete(shell, 'gatehouse -p dev jobs ').sort()).toEqual([
      'cancel',
      'events',
      'get',
      'help',
      'list',
      'rerun',
    ]);
    expect(complete(shell, 'gatehouse run ci --')).toEqual(
      expect.arrayContaining(['--input', '--key', '--wait', '--follow', '--profile', '--json', '--help']),
    );
    expect(complete(shell, 'gatehouse run ci --')).not.toContain('--status');
  });

  it('completes option values and arguments: allowed words, files', () => {
    expect(complete(shell, 'gatehouse jobs list --status ')).toEqual(
      expect.arrayContaining(['RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'TERMINATED', 'TIMED_OUT']),
    );
    expect(complete(shell, 'gatehouse completion ').sort()).toEqual(['bash', 'fish', 'zsh']);
    const files = complete(shell, 'gatehouse run ci --input ').map((file) => file.replace(`${dir}/`, ''));
    expect(files).toEqual(expect.arrayContaining(['input.json', 'input.yaml']));
    expect(files).not.toContain('list');
  });
});
