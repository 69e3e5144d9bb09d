// The grants a session carries, decided by real Cedar over the shipped policies
// (config/policies/gatehouse.cedar): what HAProxy then lets a person do at /argo/ and /temporal/.
import { describe, expect, it } from 'vitest';
import { createGrantDecider, type Caller } from '../../../../src/bridge/sign-in/grants.js';
import { loadConfig, type GatehouseConfig } from '../../../../src/config/load-config.js';

const shipped = loadConfig({ GATEHOUSE_CONFIG: 'config/gatehouse.yaml' }, { webhookSecrets: false });
const config: GatehouseConfig = {
  ...shipped,
  signIn: {
    ...shipped.signIn,
    argo: { identity: 'serviceAccount', namespaces: ['team-a', 'team-b'] },
    temporal: { namespaces: ['default', 'payments'] },
  } as GatehouseConfig['signIn'],
};
const grants = createGrantDecider(config);
const issuer = 'https://idp.example.com';
const caller = (sub: string, groups: string[]): Caller => ({
  principal: `jwt:${issuer}#${sub}`,
  issuer,
  groups,
  roles: [],
  scopes: [],
});

describe('session grants', () => {
  it('gives maintainers edit in every Argo namespace and read of the default Temporal namespace only', () => {
    expect(grants(caller('maria', ['maintainers']))).toEqual({
      argo: 'team-a:edit team-b:edit',
      temporal: 'default:read',
    });
  });

  it('gives admins every Temporal namespace to write, whatever Cedar says of each', () => {
    expect(grants(caller('ada', ['gatehouse-admins'])).temporal).toBe('*:write');
  });

  it('gives nothing to a person no policy names, and nothing for a group only spelled like one', () => {
    expect(grants(caller('bob', []))).toEqual({ argo: '', temporal: '' });
    expect(grants(caller('eve', ['Maintainers', 'maintainers ']))).toEqual({ argo: '', temporal: '' });
  });

  it('decides for the caller alone: one person’s groups never reach the next decision', () => {
    expect(grants(caller('maria', ['maintainers'])).argo).not.toBe('');
    expect(grants(caller('maria', []))).toEqual({ argo: '', temporal: '' });
  });
});
