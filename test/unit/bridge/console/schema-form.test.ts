// The Start page's forms: a route's input JSON Schema as fields named by JSON Pointer, and a posted
// form read back as the input, checked against the shipped routes' schemas (config/gatehouse.yaml).
import { describe, expect, it } from 'vitest';
import { fieldFor, formFields, readForm, type FormField } from '../../../../src/bridge/console/schema-form.js';
import { fieldId } from '../../../../src/bridge/console/pages/start-page.js';
import { loadConfig } from '../../../../src/config/load-config.js';

const config = loadConfig({
  GATEHOUSE_CONFIG: 'config/gatehouse.yaml',
  GATEHOUSE_GITHUB_WEBHOOK_SECRET: 'x',
  GATEHOUSE_GITLAB_WEBHOOK_TOKEN: 'x',
  GATEHOUSE_GITEA_WEBHOOK_SECRET: 'x',
  GATEHOUSE_BITBUCKET_WEBHOOK_SECRET: 'x',
});
const policyCheck = formFields(config.routes['policy-check']!.input);
const ci = formFields(config.routes.ci!.input);

const shape = (fields: FormField[]): unknown =>
  fields.map((f) =>
    f.kind === 'group' ? { [f.pointer]: shape(f.fields) } : `${f.pointer} ${f.kind}${f.required ? '!' : ''}`,
  );

describe('formFields', () => {
  it('follows $refs into $defs, and marks what the schema requires', () => {
    expect(shape(policyCheck)).toEqual([
      { '/principal': ['/principal/type text!', '/principal/id text!'] },
      { '/action': ['/action/type text!', '/action/id text!'] },
      { '/resource': ['/resource/type text!', '/resource/id text!'] },
      '/context json',
    ]);
    expect(policyCheck[0]).toMatchObject({ required: false, description: 'defaults to the caller (Gatehouse::User)' });
    expect(policyCheck[1]).toMatchObject({ required: true });
  });

  it('makes an enum a choice whose values are JSON, and a pattern-bound string a text field', () => {
    const provider = ci.find((f) => f.pointer === '/provider');
    expect(provider).toMatchObject({
      kind: 'choice',
      required: true,
      options: [
        { value: '"github"', label: 'github' },
        { value: '"gitlab"', label: 'gitlab' },
        { value: '"gitea"', label: 'gitea' },
        { value: '"bitbucket"', label: 'bitbucket' },
      ],
    });
    expect(ci.find((f) => f.pointer === '/after')).toMatchObject({ kind: 'text', required: true });
  });

  it('makes booleans a yes/no choice, numbers number fields, and escapes pointer tokens', () => {
    const fields = formFields({
      type: 'object',
      properties: { 'a/b~c': { type: 'boolean' }, n: { type: 'integer' }, list: { type: 'array' } },
    });
    expect(fields).toEqual([
      {
        pointer: '/a~1b~0c',
        label: 'a/b~c',
        required: false,
        kind: 'choice',
        options: [
          { value: 'true', label: 'true' },
          { value: 'false', label: 'false' },
        ],
      },
      { pointer: '/n', label: 'n', required: false, kind: 'number', integer: true },
      { pointer: '/list', label: 'list', required: false, kind: 'json' },
    ]);
  });

  it('stops at a recursive $ref with a JSON field instead of looping', () => {
    const fields = formFields({
      type: 'object',
      properties: { node: { $ref: '#/$defs/node' } },
      $defs: { node: { type: 'object', properties: { next: { $ref: '#/$defs/node' } } } },
    });
    let depth = 0;
    for (let f: FormField | undefined = fields[0]; f?.kind === 'group'; f = f.fields[0]) depth += 1;
    expect(depth).toBeGreaterThan(3);
    expect(depth).toBeLessThan(10);
  });
});

describe('readForm', () => {
  it('reads the input back as typed: nested objects, JSON values, and empty optional groups left out', () => {
    const form = new Map([
      ['/principal/type', ''],
      ['/principal/id', ''],
      ['/action/type', ' Gatehouse::Action '],
      ['/action/id', 'read'],
      ['/resource/type', 'Gatehouse::Repository'],
      ['/resource/id', 'acme/website'],
      ['/context', '{"ip": "10.0.0.1"}'],
    ]);
    expect(readForm(policyCheck, form)).toEqual({
      input: {
        action: { type: 'Gatehouse::Action', id: 'read' },
        resource: { type: 'Gatehouse::Repository', id: 'acme/website' },
        context: { ip: '10.0.0.1' },
      },
      errors: [],
    });
  });

  it('keeps a half-filled optional group, so the API says what is missing', () => {
    const { input } = readForm(policyCheck, new Map([['/principal/type', 'Gatehouse::User']]));
    expect(input).toEqual({ principal: { type: 'Gatehouse::User' } });
  });

  it('reports a JSON field that is not JSON, and sends a number field that holds no number as its text', () => {
    const fields = formFields({ type: 'object', properties: { n: { type: 'number' }, j: { type: 'object' } } });
    expect(
      readForm(
        fields,
        new Map([
          ['/n', 'twelve'],
          ['/j', '{nope'],
        ]),
      ),
    ).toEqual({
      input: { n: 'twelve' },
      errors: [{ pointer: '/j', detail: 'must be valid JSON' }],
    });
    expect(readForm(fields, new Map([['/n', '1.5']])).input).toEqual({ n: 1.5 });
  });

  it('reads choices back typed', () => {
    const { input } = readForm(
      ci,
      new Map([
        ['/provider', '"gitlab"'],
        ['/repository/fullName', 'acme/api'],
      ]),
    );
    expect(input).toEqual({ provider: 'gitlab', repository: { fullName: 'acme/api' } });
  });
});

describe('fieldFor and fieldId', () => {
  it('puts an API error on its field, else on the nearest enclosing one, else on the whole form', () => {
    expect(fieldFor(policyCheck, '/action/type')?.pointer).toBe('/action/type');
    expect(fieldFor(policyCheck, '/action')?.pointer).toBe('/action');
    expect(fieldFor(policyCheck, '/context/deep/er')?.pointer).toBe('/context');
    expect(fieldFor(policyCheck, '/unknown')).toBeUndefined();
    expect(fieldFor(policyCheck, '')).toBeUndefined();
  });

  it('makes distinct, valid HTML ids of pointers', () => {
    expect(fieldId('/action/type')).toBe('field.2faction.2ftype');
    expect(fieldId('/a~1b')).not.toBe(fieldId('/a/b'));
    expect(fieldId('/x y"z')).toMatch(/^[A-Za-z0-9_.-]+$/);
  });
});
