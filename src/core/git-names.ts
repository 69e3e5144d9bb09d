// What a repository, branch, ref and commit may be called before Gatehouse clones, builds or
// reports on them. Names come from API callers and from payloads a provider signed but a user
// chose, so they are held to strict shapes: no `.`/`..` segments, no option-like or hidden
// segments, bounded lengths. Checked at the bridge (webhooks) and again by the CI activities.

const segment = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

/** `owner/repo`, or GitLab's `group/subgroup/…/project`: 2 to 20 plain segments, ≤ 255 chars. */
export function isRepositoryName(value: string): boolean {
  const parts = value.split('/');
  return (
    value.length <= 255 &&
    parts.length >= 2 &&
    parts.length <= 20 &&
    parts.every((part) => segment.test(part) && !part.endsWith('.'))
  );
}

/** A branch or tag name in the spirit of `git check-ref-format`, ≤ 200 chars. */
export function isRefName(value: string): boolean {
  if (value.length === 0 || value.length > 200) return false;
  if (/[\s~^:?*[\\\x00-\x1f\x7f]|\.\.|@\{|\/\/|^\/|\/$|\.lock$|^-/.test(value)) return false;
  return value.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.'));
}

/** `refs/heads/<branch>` or `refs/tags/<tag>`. */
export function isFullRef(value: string): boolean {
  const match = /^refs\/(heads|tags)\/(.+)$/.exec(value);
  return match?.[2] !== undefined && isRefName(match[2]);
}

/** A full commit id: 40 hex (SHA-1) or 64 hex (SHA-256) characters. */
export function isCommitSha(value: string): boolean {
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(value);
}
