import { describe, expect, it } from 'vitest';
import { chooseProjectRoots } from './project-roots';
import type { ServiceBuildSpec } from '../build-spec/types';

const spec = (project: string, context: string, dockerfile?: string, composeDir = 'apps'): ServiceBuildSpec => ({
  project,
  service: project,
  composeProject: 'p',
  composeDir,
  composeFiles: [`${composeDir}/compose.yaml`],
  context,
  ...(dockerfile ? { dockerfile } : {}),
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

describe('chooseProjectRoots', () => {
  it.each([
    { name: 'own context folder', specs: [spec('api', 'apps/api', 'apps/api/Dockerfile')], projectFolders: [], roots: { api: 'apps/api' } },
    {
      name: 'workspace-root context uses the Dockerfile folder',
      specs: [spec('gw', '.', 'services/gw/Dockerfile')],
      projectFolders: [],
      roots: { gw: 'services/gw' },
    },
    {
      name: 'shared context: each service falls back to its Dockerfile folder',
      specs: [spec('a', 'apps', 'apps/a/Dockerfile'), spec('b', 'apps', 'apps/b/Dockerfile')],
      projectFolders: [],
      roots: { a: 'apps/a', b: 'apps/b' },
    },
    {
      name: 'shared context and Dockerfile folder: virtual roots',
      specs: [spec('a', 'apps', 'apps/a.Dockerfile'), spec('b', 'apps', 'apps/b.Dockerfile')],
      projectFolders: [],
      roots: { a: 'apps/.nx-compose-buildx/a', b: 'apps/.nx-compose-buildx/b' },
    },
    {
      name: 'context already an Nx project: virtual root',
      specs: [spec('web', 'apps/web', 'apps/web/Dockerfile')],
      projectFolders: ['apps/web'],
      roots: { web: 'apps/.nx-compose-buildx/web' },
    },
    {
      name: 'remote context: virtual root',
      specs: [spec('remote', 'https://github.com/x/y.git')],
      projectFolders: [],
      roots: { remote: 'apps/.nx-compose-buildx/remote' },
    },
  ])('$name', ({ specs, projectFolders, roots }) => {
    const chosen = chooseProjectRoots(specs, (dir) => projectFolders.includes(dir));
    expect(Object.fromEntries(chosen)).toEqual(roots);
  });
});
