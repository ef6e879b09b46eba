/**
 * compose-spec JSON schema validation (compose-go `schema.Validate`), with the schema compose-go v2.4.8 embeds
 * (compose-spec.json, see SOURCE.md). Messages follow compose-go's wording ("services.a Additional property
 * platforms is not allowed"); each problem keeps the instance path so the loader can name the file line and
 * the service.
 */
import type Ajv from 'ajv';
import type standaloneCode from 'ajv/dist/standalone';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SchemaProblem {
  /** Key path of the offending value (for an unknown key, the key itself). */
  path: string[];
  message: string;
}

/**
 * The build's precompiled validator (scripts/build.mjs writes it from composeSpecStandaloneCode). Compiling
 * the schema costs ~400 ms of CPU, more than the rest of a 100-file graph's loading, and loading Ajv itself
 * ~50 ms; the precompiled code needs neither. From src/ (the unit tests) it is absent and the schema is
 * compiled.
 */
export const PRECOMPILED_VALIDATOR = 'compose-spec.validate.js';

/** The one Ajv setup for the schema, for the runtime compile and the build's precompile alike. */
function compileSchema(options: Options = {}): { ajv: Ajv; validate: ValidateFunction } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when no precompiled validator is shipped
  const AjvClass = (require('ajv') as { default: typeof Ajv }).default;
  // The schema names its draft as https://json-schema.org/draft-07/schema, an id Ajv does not know: it is draft-07, Ajv's default.
  const ajv = new AjvClass({ allErrors: true, strict: false, validateSchema: false, ...options });
  return { ajv, validate: ajv.compile(JSON.parse(readFileSync(join(__dirname, 'compose-spec.json'), 'utf8'))) };
}

/** The validator as standalone CommonJS (Ajv's standalone code), for the build to ship precompiled. */
export function composeSpecStandaloneCode(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- build time only
  const generate = (require('ajv/dist/standalone') as { default: typeof standaloneCode }).default;
  const { ajv, validate } = compileSchema({ code: { source: true } });
  return generate(ajv, validate);
}

function precompiled(): ValidateFunction | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a build output beside this file, present only in dist/
    return require(join(__dirname, PRECOMPILED_VALIDATOR)) as ValidateFunction;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  compiled ??= precompiled() ?? compileSchema().validate;
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
export function validateComposeModel(model: unknown, validate: ValidateFunction = validator()): Map<string, SchemaProblem> {
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
