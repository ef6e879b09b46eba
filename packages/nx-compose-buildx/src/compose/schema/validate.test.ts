import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { ValidateFunction } from 'ajv';
import { composeSpecStandaloneCode, validateComposeModel } from './validate';

/** The build's precompiled validator, loaded the way Node loads the file the build writes. */
function standalone(): ValidateFunction {
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', composeSpecStandaloneCode())(module, module.exports, createRequire(import.meta.url));
  return module.exports as ValidateFunction;
}

describe('the precompiled compose-spec validator', () => {
  const precompiled = standalone();
  const models: [string, unknown][] = [
    ['a valid model', { services: { a: { image: 'x', build: { context: '.', platforms: ['linux/amd64'] } } } }],
    ['an unknown service key', { services: { a: { image: 'x', platforms: ['linux/amd64'] } } }],
    ['a wrong type deep down', { services: { a: { build: { context: '.', platforms: 'linux/amd64' } } } }],
    ['an invalid service name', { services: { 'a b': { image: 'x' } } }],
    ['a oneOf branch', { services: { a: { image: 'x', ports: { a: 1 } } }, networks: ['front'] }],
  ];

  it.each(models)('judges %s as the runtime-compiled schema does', (name, model) => {
    // Without a second argument the schema is compiled at run time (src/ ships no precompiled file).
    const problems = validateComposeModel(model, precompiled);
    expect(problems).toEqual(validateComposeModel(model));
    expect(problems.size).toBe(name === 'a valid model' ? 0 : name === 'a oneOf branch' ? 2 : 1);
  });
});
