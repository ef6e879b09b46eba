/**
 * compose-spec JSON schema validation (compose-go `schema.Validate`), with the schema compose-go v2.4.8 embeds
 * (compose-spec.json, see SOURCE.md). Messages follow compose-go's wording ("services.a Additional property
 * platforms is not allowed"); each problem keeps the instance path so the loader can name the file line and
 * the service.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SchemaProblem {
  /** Key path of the offending value (for an unknown key, the key itself). */
  path: string[];
  message: string;
}

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  // The schema names its draft as https://json-schema.org/draft-07/schema, an id Ajv does not know: it is draft-07, Ajv's default.
  compiled ??= new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(
    JSON.parse(readFileSync(join(__dirname, 'compose-spec.json'), 'utf8')),
  );
  return compiled;
}

const HUMAN_TYPES: Record<string, string> = { array: 'list', object: 'mapping' };

const pathOf = (e: ErrorObject) =>
  e.instancePath === ''
    ? []
    : e.instancePath
        .slice(1)
        .split('/')
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));

function describe(e: ErrorObject): SchemaProblem {
  const path = pathOf(e);
  const at = path.join('.');
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const prop = String(params.additionalProperty);
      return { path: [...path, prop], message: `${at || '(root)'} Additional property ${prop} is not allowed` };
    }
    case 'type': {
      const types = String(params.type)
        .split(',')
        .map((t) => HUMAN_TYPES[t] ?? t);
      return { path, message: `${at} must be a ${types.join(' or ')}` };
    }
    case 'enum':
      return {
        path,
        message: `${at} must be one of the following: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'required':
      return { path, message: `${at || '(root)'} ${String(params.missingProperty)} is required` };
    default:
      return { path, message: `${at} ${e.message ?? 'is invalid'}` };
  }
}

/** The most specific problem of a group (compose-go reports one): the deepest path, branch errors before oneOf/anyOf. */
function mostSpecific(errors: ErrorObject[]): ErrorObject {
  const rank = (e: ErrorObject) =>
    describe(e).path.length * 10 + (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if' ? 0 : 1);
  return errors.reduce((best, e) => (rank(e) > rank(best) ? e : best));
}

/**
 * Problems with a model (plain values, tags already applied): one per service that breaks the schema, keyed
 * by service name, and at most one for the rest of the model (key '').
 */
export function validateComposeModel(model: unknown): Map<string, SchemaProblem> {
  const validate = validator();
  const out = new Map<string, SchemaProblem>();
  if (validate(model)) return out;
  const groups = new Map<string, ErrorObject[]>();
  for (const e of validate.errors ?? []) {
    const path = pathOf(e);
    // An invalid service name shows as an additional property of `services`: it belongs to that service.
    const service =
      path[0] === 'services' && path.length > 1
        ? path[1]
        : path.length === 1 && path[0] === 'services' && e.keyword === 'additionalProperties'
          ? String((e.params as Record<string, unknown>).additionalProperty)
          : '';
    groups.set(service, [...(groups.get(service) ?? []), e]);
  }
  for (const [service, errors] of groups) out.set(service, describe(mostSpecific(errors)));
  return out;
}
