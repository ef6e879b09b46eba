import { describe, expect, it } from 'vitest';
import { assignProjectNames } from './project-names';
import type { ServiceBuildSpec } from '../build-spec/types';

const spec = (service: string, composeProject: string, composeDir = composeProject): ServiceBuildSpec => ({
  project: service,
  service,
  composeProject,
  composeDir,
  composeFiles: [`${composeDir}/compose.yaml`],
  context: `${composeDir}/${service}`,
  platforms: [],
  args: {},
  tags: [],
  labels: {},
  cacheFrom: [],
  cacheTo: [],
  secrets: [],
  ssh: [],
  additionalContexts: {},
  extraHosts: [],
  variables: [],
});

describe('assignProjectNames', () => {
  it.each([
    { name: 'unique services keep their names', input: [spec('api', 'shop'), spec('web', 'shop')], names: ['api', 'web'], errors: 0 },
    {
      name: 'a clash prefixes every clashing service with its compose project',
      input: [spec('api', 'shop'), spec('api', 'edge'), spec('web', 'shop')],
      names: ['shop-api', 'edge-api', 'web'],
      errors: 0,
    },
    {
      name: 'two folders with the same compose project name fight over one name',
      input: [spec('api', 'shop', 'a'), spec('api', 'shop', 'b')],
      names: [],
      errors: 2,
    },
    {
      name: 'a service named like a prefixed clash is still an error',
      input: [spec('api', 'shop'), spec('api', 'edge'), spec('shop-api', 'x')],
      names: ['edge-api'],
      errors: 2,
    },
  ])('$name', ({ input, names, errors }) => {
    const result = assignProjectNames(input.map((s, i) => ({ spec: s, carried: i })));
    expect(result.named.map((r) => r.spec.project)).toEqual(names);
    // What travels with a spec stays with it through the renaming.
    for (const r of result.named) expect(input[r.carried].service).toBe(r.spec.service);
    expect(result.errors).toHaveLength(errors);
    for (const { error } of result.errors) expect(error.message).toMatch(/compose\.yaml .*service ".*".*claimed by more than one/);
  });
});
