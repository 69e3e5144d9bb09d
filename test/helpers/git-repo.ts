// A real local Git repository for CI tests: one commit whose SHA the tests build.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function makeGitRepo(files: Record<string, string>): { path: string; sha: string } {
  const path = mkdtempSync(join(tmpdir(), 'gatehouse-repo-'));
  const git = (...args: string[]) => execFileSync('git', ['-C', path, ...args], { encoding: 'utf8' }).trim();
  git('init', '--quiet', '--initial-branch=main');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(path, name), content, { mode: 0o755 });
  git('add', '.');
  git('-c', 'user.name=Test', '-c', 'user.email=test@example.test', 'commit', '--quiet', '-m', 'test commit');
  return { path, sha: git('rev-parse', 'HEAD') };
}
