// The workflow catalog and workflows/ stay in step: every exported workflow is in the catalog and
// every catalog entry is exported, and every activity group the catalog names exists.
import { describe, expect, it } from 'vitest';
import { activityGroups, workflowCatalog, workflowTypes } from '../../../src/core/workflow-catalog.js';
import * as workflows from '../../../workflows/index.js';

describe('workflow catalog', () => {
  it('names exactly the workflows that workflows/index.ts exports', () => {
    const exported = Object.entries(workflows)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name);
    expect([...workflowTypes].sort()).toEqual(exported.sort());
  });

  it('names only known activity groups', () => {
    for (const groups of Object.values(workflowCatalog)) {
      for (const group of groups) expect(activityGroups).toContain(group);
    }
  });
});
