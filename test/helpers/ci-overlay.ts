// A CI pipeline test's world: the test's own Git server with the files it needs, fake status APIs
// for the commit statuses, and the `ci` part of its config that points at them (clone over http
// from the Git server, statuses to the fake hosts, checkouts in a fresh scratch directory, the
// test's pipelines). A test that needs more of `ci` spreads this one's into its own.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigOverlay } from '../../src/config/overlay.js';
import { fakeStatusApis, startFakeGitHosts, type FakeGitHosts, type RecordedStatus } from './fake-git-hosts.js';
import { gitServerOverlay, startGitServer, type GitServer } from './git-server.js';
import { testSecrets } from './test-config.js';

type CiOverlay = NonNullable<ConfigOverlay['ci']>;

/** The fakes of useGatehouse for a CI test: `hosts` (status APIs) and `git` serving `files`. */
export function ciFakes(files: Record<string, string>) {
  return {
    hosts: () => startFakeGitHosts(testSecrets.TEST_STATUS_TOKEN),
    git: () => startGitServer(files),
  };
}

export interface CiOverlayOptions {
  /** Where checkouts go; a fresh directory unless given. */
  scratchDir?: string;
  /** The providers whose statuses go to the fake hosts; all four unless given. */
  statusProviders?: Array<RecordedStatus['provider']>;
}

/** The `ci` overlay for these fakes and pipelines. */
export function ciOverlay(
  fakes: { git: Pick<GitServer, 'url'>; hosts: Pick<FakeGitHosts, 'url'> },
  pipelines: NonNullable<CiOverlay['pipelines']>,
  options: CiOverlayOptions = {},
): { ci: CiOverlay } {
  return {
    ci: {
      ...gitServerOverlay(fakes.git).ci,
      scratchDir: options.scratchDir ?? mkdtempSync(join(tmpdir(), 'gatehouse-scratch-')),
      statusApis: fakeStatusApis(fakes.hosts, options.statusProviders),
      pipelines,
    },
  };
}
