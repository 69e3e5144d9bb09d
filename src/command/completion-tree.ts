// What shell completion needs to know about the command, read from the commander program itself
// (through commander's Help, which is what --help prints), so a completion script never names a
// command or an option that does not exist, and never misses one that does.
import type { Argument, Command, Option } from 'commander';

/** What an option's or argument's value is: a file, one of some words, or anything. */
export type ValueKind = { kind: 'file' } | { kind: 'choice'; words: string[] } | { kind: 'any' };

export interface CompletionOption {
  /** `-p`, `--profile`: each spelling the option has. */
  flags: string[];
  description: string;
  value: ValueKind | undefined;
}

export interface CompletionNode {
  /** The subcommand names from the root, e.g. ['jobs', 'list']; [] for the root. */
  path: string[];
  name: string;
  description: string;
  commands: CompletionNode[];
  /** Its own options and those it inherits (commander reads a parent's options after a subcommand too). */
  options: CompletionOption[];
  /** What its first positional argument is, when completion can help with it. */
  argument: ValueKind | undefined;
}

function valueOf(placeholder: string, choices: readonly string[] | undefined): ValueKind {
  if (choices !== undefined && choices.length > 0) return { kind: 'choice', words: [...choices] };
  return /\bfile\b/.test(placeholder) ? { kind: 'file' } : { kind: 'any' };
}

function optionOf(option: Option): CompletionOption {
  const flags = [option.short, option.long].filter((flag): flag is string => flag !== undefined);
  const takesValue = option.required || option.optional;
  return {
    flags,
    description: option.description,
    value: takesValue ? valueOf(option.flags, option.argChoices) : undefined,
  };
}

function argumentOf(argument: Argument | undefined): ValueKind | undefined {
  if (argument === undefined) return undefined;
  const value = valueOf(argument.name(), argument.argChoices);
  return value.kind === 'any' ? undefined : value;
}

/** The program as a tree of commands and options, as its help shows them. */
export function completionTree(
  command: Command,
  path: string[] = [],
  inherited: CompletionOption[] = [],
): CompletionNode {
  const help = command.createHelp();
  const own = help.visibleOptions(command).map(optionOf);
  // Help and version belong to the command that shows them; other options reach subcommands.
  const passedOn = own.filter((option) => !option.flags.some((flag) => ['--help', '--version'].includes(flag)));
  const commands = help
    .visibleCommands(command)
    .map((sub) => completionTree(sub, [...path, sub.name()], [...inherited, ...passedOn]));
  // `help [command]` (commander's own) takes the name of a sibling.
  for (const sub of commands)
    if (sub.name === 'help' && sub.argument === undefined)
      sub.argument = { kind: 'choice', words: commands.map((c) => c.name).filter((name) => name !== 'help') };
  return {
    path,
    name: command.name(),
    description: command.description(),
    commands,
    options: [...own, ...inherited],
    argument: argumentOf(command.registeredArguments[0]),
  };
}

/** Every node of the tree, the root first. */
export function allNodes(node: CompletionNode): CompletionNode[] {
  return [node, ...node.commands.flatMap(allNodes)];
}
