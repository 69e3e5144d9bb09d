// The shapes of names Gatehouse clones, builds and reports on.
import { describe, expect, it } from 'vitest';
import { isCommitSha, isFullRef, isRefName, isRepositoryName } from '../../../src/core/git-names.js';

describe('git names', () => {
  it('accepts plain repository names, nested GitLab groups included, and refuses path tricks', () => {
    for (const ok of ['acme/api', 'Codertocat/Hello-World', 'group/sub/project', 'a_b/c.d'])
      expect(isRepositoryName(ok), ok).toBe(true);
    for (const bad of [
      'acme',
      'acme/..',
      '../x',
      'acme/./x',
      'acme//x',
      '/acme/x',
      'acme/x/',
      '-u/x',
      'acme/.git',
      'a/b.',
      'a b/c',
      `a/${'x'.repeat(300)}`,
      'a/b?c',
    ]) {
      expect(isRepositoryName(bad), bad).toBe(false);
    }
  });

  it('accepts branch names git accepts, and refuses the rest', () => {
    for (const ok of ['main', 'release/1.2', 'feature/x_y-z']) expect(isRefName(ok), ok).toBe(true);
    for (const bad of [
      '',
      '..',
      'a..b',
      'a/.x',
      'x.lock',
      '-x',
      'a//b',
      'a b',
      'a~1',
      'a^',
      'a:b',
      'x@{1}',
      'a\\b',
      'y'.repeat(201),
    ]) {
      expect(isRefName(bad), bad).toBe(false);
    }
    expect(isFullRef('refs/heads/main')).toBe(true);
    expect(isFullRef('refs/tags/v1.0')).toBe(true);
    expect(isFullRef('refs/remotes/origin/main')).toBe(false);
    expect(isFullRef('refs/heads/../x')).toBe(false);
  });

  it('accepts only full commit ids', () => {
    expect(isCommitSha('a'.repeat(40))).toBe(true);
    expect(isCommitSha('b'.repeat(64))).toBe(true);
    for (const bad of ['abc1234', 'A'.repeat(40), `${'a'.repeat(40)}\n`, '--upload-pack=x'])
      expect(isCommitSha(bad), bad).toBe(false);
  });
});
