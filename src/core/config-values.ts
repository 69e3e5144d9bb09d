// The kinds of value gatehouse.yaml holds (a secret reference, a duration), as TypeBox schemas:
// the config schema (src/config/schema.ts) and the settings a provider declares for its own
// capabilities (src/providers/<name>/) are built from these, so both read the same way.
import Type from 'typebox';

/** Where a secret comes from: an environment variable or a file, never the config file itself. */
export type SecretReference = { env: string } | { file: string };

export const SecretRef = Type.Union([
  Type.Object({ env: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  Type.Object({ file: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
]);

/** A secret reference with its own description. */
export const describedSecret = (description: string) => Type.Union(SecretRef.anyOf, { description });

export const durationPattern = '^[0-9]+(ms|s|m|h|d)$';
export const duration = (description: string) => Type.String({ pattern: durationPattern, description });
export const durationDefault = (value: string, description: string) =>
  Type.String({ pattern: durationPattern, default: value, description });
