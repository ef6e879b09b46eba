/** The generated executor schemas against what the plugin really puts on targets, and what executors accept. */
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { buildSpecsFromProject } from '../../../build-spec/from-compose';
import type { ComposeProject } from '../../../compose/types';
import { normalizePluginOptions } from '../../plugin-options';
import { projectConfiguration } from '../../targets';
import { BUILD_EXECUTORS, buildExecutorSchema } from './schema';

const composeProject: ComposeProject = {
  name: 'shop',
  projectDir: '/ws/app',
  files: ['/ws/app/compose.yaml'],
  secrets: { token: { file: '/ws/app/token' } },
  services: {
    api: {
      name: 'api',
      definition: { 'x-nx-buildx': { platformArgs: { 'linux/arm64': { FEATURE: 'neon' } } } },
      variables: [],
      sources: [{ file: '/ws/app/compose.yaml', line: 2 }],
      image: '127.0.0.1:5000/shop/api:1',
      build: {
        context: '/ws/app',
        platforms: ['linux/amd64', 'linux/arm64'],
        args: { A: '1' },
        target: 'prod',
        labels: { l: 'v' },
        cache_from: ['type=registry,ref=r/c'],
        secrets: [{ source: 'token' }],
        ssh: ['default'],
        additional_contexts: { base: 'service:base' },
        network: 'none',
        shm_size: '1024',
        extra_hosts: ['db=10.0.0.2'],
        no_cache: true,
        pull: true,
        ulimits: { nofile: 1024 },
        privileged: true,
      },
    },
  },
};

describe('docker-build / docker-push schemas', () => {
  const [spec] = buildSpecsFromProject(composeProject, { workspaceRoot: '/ws', exists: () => true }).specs;
  const options = normalizePluginOptions({ builder: 'multi', provenance: true, sbom: false, ociLabels: false });
  const project = projectConfiguration(
    {
      spec,
      root: 'app',
      dependencies: [],
      imageInputs: [],
      serviceImages: { base: 'r/base:1' },
      platforms: { 'linux/arm64': { inputs: [], lockName: 'api@linux-arm64' } },
    },
    options,
  );
  const ajv = new Ajv({ strict: false, allErrors: true });

  it.each(BUILD_EXECUTORS)('%s: every option the plugin writes is a declared, valid property', (name) => {
    const schema = buildExecutorSchema(name);
    const validate = ajv.compile(schema);
    const targets = Object.values(project.targets!).filter((t) => t.executor === `nx-compose-buildx:${name}`);
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      const undeclared = Object.keys(target.options).filter((k) => !(k in (schema.properties as object)));
      expect(undeclared).toEqual([]);
      expect(validate(target.options), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it('the mapped compose fields all reach the target options', () => {
    const build = project.targets!['docker-build--linux-arm64'].options;
    expect(build).toMatchObject({
      platforms: ['linux/arm64'],
      args: { A: '1', FEATURE: 'neon' },
      ulimits: ['nofile=1024'],
      entitlements: ['security.insecure'],
      extraHosts: ['db=10.0.0.2'],
      shmSize: '1024',
      target: 'prod',
    });
  });
});
