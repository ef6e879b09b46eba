/** createNodes over real folders: which compose projects exist, as `docker compose` run in each folder sees them. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CreateNodesContext, ProjectConfiguration } from '@nx/devkit';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createComposeNodes } from './create-nodes';
import { graphCacheWritesSettled, workspaceDataDirectory } from './graph-cache';
import { normalizeBuildOptions, type BuildExecutorOptions } from './executors/shared/options';
import type { ComposeBuildxPluginOptions } from './plugin-options';

const base = mkdtempSync(join(tmpdir(), 'nxcb-nodes-'));
afterAll(async () => {
  await graphCacheWritesSettled(); // createNodes does not wait for its cache write
  rmSync(base, { recursive: true, force: true });
});

let n = 0;
async function projectsOf(
  files: Record<string, string>,
  options: ComposeBuildxPluginOptions = {},
  links: Record<string, string> = {},
): Promise<Record<string, ProjectConfiguration>> {
  const root = join(base, `ws${n++}`);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  for (const [path, target] of Object.entries(links)) symlinkSync(target, join(root, path));
  const configFiles = Object.keys(files).filter((f) => /(^|\/)(docker-)?compose\.ya?ml$/.test(f));
  const context = { workspaceRoot: root, nxJsonConfiguration: {}, configFiles } as unknown as CreateNodesContext;
  const projects: Record<string, ProjectConfiguration> = {};
  for (const [, result] of await createComposeNodes(configFiles, options, context)) {
    for (const project of Object.values(result.projects ?? {})) projects[project.name!] = project;
  }
  return projects;
}

const tagsOf = (p: ProjectConfiguration | undefined) => (p?.targets?.['docker-build']?.options as { tags?: string[] } | undefined)?.tags;
const DOCKERFILE = 'FROM scratch\nCOPY . /\n';

describe('createNodes: compose projects as docker compose finds them', () => {
  it('COMPOSE_FILE (with COMPOSE_PATH_SEPARATOR) and COMPOSE_PROJECT_NAME from the folder .env', async () => {
    const projects = await projectsOf({
      'app/docker-compose.yml': 'services:\n  api:\n    build: ./api\n',
      // Relative paths in every file resolve against the project folder (app/), not the file's own folder.
      'app/docker/dev.yml': 'services:\n  worker:\n    build: ./worker\n',
      'app/.env':
        'COMPOSE_PATH_SEPARATOR=;\nCOMPOSE_FILE=docker-compose.yml;docker/dev.yml\nCOMPOSE_PROJECT_NAME=shop\nCOMPOSE_PROFILES=dev\n',
      'app/api/Dockerfile': DOCKERFILE,
      'app/worker/Dockerfile': DOCKERFILE,
    });
    expect(Object.keys(projects).sort()).toEqual(['api', 'worker']);
    expect(tagsOf(projects.api)).toEqual(['shop-api']);
    expect(tagsOf(projects.worker)).toEqual(['shop-worker']);
  });

  it('the envFile option stands in for --env-file', async () => {
    const projects = await projectsOf(
      {
        'app/compose.yaml': 'services:\n  api:\n    build: ./api\n    image: reg/api:${TAG}\n',
        'app/.env': 'TAG=from-dotenv\n',
        'app/ci.env': 'TAG=from-ci\n',
        'app/api/Dockerfile': DOCKERFILE,
      },
      { envFile: 'ci.env' },
    );
    expect(tagsOf(projects.api)).toEqual(['reg/api:from-ci']);
  });

  it("a COPY of a symlink reads the link's target too; a link inside a copied folder does not", async () => {
    const projects = await projectsOf(
      {
        'compose.yaml': 'services:\n  api:\n    build: ./api\n',
        'api/Dockerfile': 'FROM scratch\nCOPY conf.txt /conf.txt\nCOPY lib/ /lib/\n',
        'api/shared/conf.txt': 'conf\n',
        'api/lib/a.js': 'a\n',
        'api/other.txt': 'not read\n',
      },
      {},
      { 'api/conf.txt': 'shared/conf.txt', 'api/lib/b.js': '../other.txt' },
    );
    const inputs = projects.api!.namedInputs!['docker-image'];
    expect(inputs).toEqual(expect.arrayContaining(['{workspaceRoot}/api/conf.txt', '{workspaceRoot}/api/shared/conf.txt']));
    expect(JSON.stringify(inputs)).not.toContain('other.txt');
  });

  it("a named context's own .dockerignore is applied to what it sends; it is an input itself", async () => {
    const projects = await projectsOf({
      'compose.yaml': 'services:\n  api:\n    build:\n      context: ./api\n      additional_contexts:\n        shared: ./shared\n',
      'api/Dockerfile': 'FROM scratch\nCOPY --from=shared . /s\n',
      'shared/.dockerignore': '*.md\nbuild/\n',
      'shared/lib/a.js': 'a\n',
      'shared/notes.md': 'dropped\n',
      'shared/build/out.js': 'dropped\n',
    });
    expect(projects.api!.namedInputs!['docker-image']).toEqual(
      expect.arrayContaining([
        '{workspaceRoot}/shared/.dockerignore',
        '{workspaceRoot}/shared/**/*',
        '!{workspaceRoot}/shared/notes.md',
        '!{workspaceRoot}/shared/build/**/*',
      ]),
    );
  });

  it('what one context drops is not negated where another context of the service reads it', async () => {
    // The root context ignores shared/ (and *.md); the named context shared reads all of it, its notes.md too.
    const projects = await projectsOf({
      'compose.yaml':
        'services:\n  api:\n    build:\n      context: .\n      dockerfile: api/Dockerfile\n      additional_contexts:\n        shared: ./shared\n',
      '.dockerignore': 'shared/\n*.md\n**/*.md\n',
      'api/Dockerfile': 'FROM scratch\nCOPY api/ /api/\nCOPY shared/ /not-sent/\nCOPY --from=shared . /s\n',
      'api/main.js': 'x\n',
      'api/notes.md': 'dropped\n',
      'shared/lib/a.js': 'a\n',
      'shared/notes.md': 'sent through the named context\n',
    });
    const inputs = projects.api!.namedInputs!['docker-image'] as string[];
    expect(inputs).toEqual(
      expect.arrayContaining(['{workspaceRoot}/api/**/*', '!{workspaceRoot}/api/notes.md', '{workspaceRoot}/shared/**/*']),
    );
    expect(inputs.filter((i) => typeof i === 'string' && i.startsWith('!{workspaceRoot}/shared'))).toEqual([]);
  });

  it("a named context's links are followed as the main context's are", async () => {
    const projects = await projectsOf(
      {
        'compose.yaml': 'services:\n  api:\n    build:\n      context: ./api\n      additional_contexts:\n        shared: ./shared\n',
        'api/Dockerfile': 'FROM scratch\nCOPY --from=shared conf.txt /conf.txt\nCOPY --from=shared lib/ /lib/\n',
        'shared/real/conf.txt': 'conf\n',
        'shared/lib/a.js': 'a\n',
        'shared/other.txt': 'not read\n',
      },
      {},
      // lib/b.js is below a copied folder: copied as a link, followed by nothing.
      { 'shared/conf.txt': 'real/conf.txt', 'shared/lib/b.js': '../other.txt' },
    );
    const inputs = projects.api!.namedInputs!['docker-image'];
    expect(inputs).toEqual(expect.arrayContaining(['{workspaceRoot}/shared/conf.txt', '{workspaceRoot}/shared/real/conf.txt']));
    expect(JSON.stringify(inputs)).not.toContain('other.txt');
  });

  it("a link added to a named context is seen on the next graph: the cache watches the context's folders", async () => {
    const root = join(base, `ws${n++}`);
    const files: Record<string, string> = {
      'compose.yaml': 'services:\n  api:\n    build:\n      context: ./api\n      additional_contexts:\n        shared: ./shared\n',
      'api/Dockerfile': 'FROM scratch\nCOPY --from=shared sub/conf.txt /conf.txt\n',
      'shared/sub/conf.txt': 'conf\n',
      'shared/real/conf.txt': 'real\n',
    };
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    const context = { workspaceRoot: root, nxJsonConfiguration: {}, configFiles: ['compose.yaml'] } as unknown as CreateNodesContext;
    const inputsNow = async () => {
      const [[, result]] = await createComposeNodes(['compose.yaml'], {}, context);
      return JSON.stringify(result.projects?.api?.namedInputs?.['docker-image']);
    };
    expect(await inputsNow()).not.toContain('shared/real/conf.txt');
    // The entry is written after createNodes returns: wait for it, so the next call is a warm one.
    const dataDir = workspaceDataDirectory(root);
    await vi.waitFor(() => expect(readdirSync(dataDir).some((f) => f.startsWith('nx-compose-buildx-') && f.endsWith('.json'))).toBe(true));
    expect(await inputsNow()).not.toContain('shared/real/conf.txt');
    // In a sub-folder: only that folder's own stat moves.
    rmSync(join(root, 'shared/sub/conf.txt'));
    symlinkSync('../real/conf.txt', join(root, 'shared/sub/conf.txt'));
    expect(await inputsNow()).toContain('shared/real/conf.txt');
  });

  it('a compose file pulled in by include: belongs to the including project only', async () => {
    const projects = await projectsOf({
      'compose.yaml': 'include:\n  - lib/compose.yaml\nservices:\n  api:\n    build: ./api\n',
      'lib/compose.yaml': 'services:\n  lib:\n    build: .\n',
      'api/Dockerfile': DOCKERFILE,
      'lib/Dockerfile': DOCKERFILE,
    });
    expect(Object.keys(projects).sort()).toEqual(['api', 'lib']);
    expect(tagsOf(projects.lib)).toEqual([expect.stringMatching(/^ws\d+-lib$/)]);
  });

  it("an image used only by a stage the build does not reach makes no edge (the service's build.target decides)", async () => {
    // One Dockerfile, two targets: `dev` starts from the base service's image, `prod` does not.
    const projects = await projectsOf({
      'compose.yaml':
        'services:\n  base:\n    build: ./base\n    image: reg/base\n  api:\n    build: {context: ./api, target: prod}\n  api-dev:\n    build: {context: ./api, target: dev}\n',
      'base/Dockerfile': DOCKERFILE,
      'api/Dockerfile': 'FROM reg/base AS dev\nRUN true\nFROM scratch AS prod\nCOPY app /app\n',
    });
    expect(projects.api).not.toHaveProperty('implicitDependencies');
    expect(projects['api-dev']!.implicitDependencies).toEqual(['base']);
  });

  it("a workspace image's reading ONBUILD trigger makes every build FROM it read its whole context", async () => {
    const projects = await projectsOf({
      'compose.yaml':
        'services:\n  base:\n    build: ./base\n    image: reg/onbuild-base\n  api:\n    build: {context: ./api, additional_contexts: {cfg: ./cfg}}\n  web:\n    build: ./web\n',
      'base/Dockerfile': 'FROM scratch\nONBUILD COPY conf/ /conf\n',
      'api/Dockerfile': 'FROM reg/onbuild-base\nCOPY app /app\n',
      'api/app': 'x',
      'api/conf/a.conf': 'x',
      'cfg/x': 'x',
      'web/Dockerfile': 'FROM scratch\nCOPY app /app\n',
      'web/app': 'x',
      'web/conf/a.conf': 'x',
    });
    expect(projects.api!.implicitDependencies).toEqual(['base']);
    expect(projects.api!.namedInputs!['docker-image']).toEqual(
      expect.arrayContaining(['{workspaceRoot}/api/**/*', '{workspaceRoot}/cfg/**/*']),
    );
    expect(JSON.stringify(projects.web!.namedInputs!['docker-image'])).not.toContain('conf');
  });

  it('targets leave out empty build fields and implicitDependencies; the executors put the fields back', async () => {
    const projects = await projectsOf({
      'compose.yaml':
        'services:\n  base:\n    build: ./base\n    image: reg/base\n  api:\n    build:\n      context: ./api\n      args: {BASE: reg/base}\n      labels: {team: a}\n',
      'base/Dockerfile': DOCKERFILE,
      'api/Dockerfile': 'ARG BASE\nFROM ${BASE}\n',
    });
    const options = (p: string, t: string) => projects[p]!.targets![t]!.options as BuildExecutorOptions;
    const base = options('base', 'docker-push');
    for (const key of ['args', 'labels', 'cacheFrom', 'cacheTo', 'secrets', 'ssh', 'additionalContexts', 'extraHosts', 'platforms'])
      expect(base).not.toHaveProperty(key);
    expect(projects.base).not.toHaveProperty('implicitDependencies');
    expect(projects.api!.implicitDependencies).toEqual(['base']);
    expect(options('api', 'docker-build')).toMatchObject({ args: { BASE: 'reg/base' }, labels: { team: 'a' } });
    expect(normalizeBuildOptions(base, 'push').build).toEqual({
      context: 'base',
      dockerfile: 'base/Dockerfile',
      platforms: [],
      args: {},
      labels: {},
      tags: ['reg/base'],
      cacheFrom: [],
      cacheTo: [],
      secrets: [],
      ssh: [],
      additionalContexts: {},
      extraHosts: [],
    });
  });
});
