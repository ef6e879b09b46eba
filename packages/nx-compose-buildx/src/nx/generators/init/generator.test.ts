import { readNxJson, updateNxJson } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { describe, expect, it } from 'vitest';
import { initGenerator, registerPlugin } from './generator';

const ours = (plugins: unknown[] | undefined) =>
  (plugins ?? []).filter((p) => (typeof p === 'string' ? p : (p as { plugin: string }).plugin) === 'nx-compose-buildx');

describe('init generator', () => {
  it('registers the plugin with the main options and the sync generator', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await initGenerator(tree, { skipFormat: true });
    const nxJson = readNxJson(tree)!;
    expect(ours(nxJson.plugins)).toEqual([
      {
        plugin: 'nx-compose-buildx',
        options: { buildTargetName: 'docker-build', pushTargetName: 'docker-push', verifyTargetName: 'docker-verify', provenance: false },
      },
    ]);
    expect(nxJson.sync?.globalGenerators).toEqual(['nx-compose-buildx:sync']);
    // Local task runs keep the lock fresh by themselves.
    expect(nxJson.sync?.applyChanges).toBe(true);
  });

  it('keeps a workspace that chose not to apply sync changes automatically', async () => {
    const tree = createTreeWithEmptyWorkspace();
    updateNxJson(tree, { ...readNxJson(tree)!, sync: { applyChanges: false } });
    await initGenerator(tree, { skipFormat: true });
    expect(readNxJson(tree)!.sync).toEqual({ applyChanges: false, globalGenerators: ['nx-compose-buildx:sync'] });
  });

  it('is idempotent', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await initGenerator(tree, { builder: 'multi', skipFormat: true });
    const once = tree.read('nx.json', 'utf-8');
    await initGenerator(tree, { skipFormat: true });
    await initGenerator(tree, { skipFormat: true });
    expect(tree.read('nx.json', 'utf-8')).toBe(once);
    expect(ours(readNxJson(tree)!.plugins)).toHaveLength(1);
  });

  it.each([
    {
      title: 'string registration becomes the object form',
      before: ['nx-compose-buildx'],
      opts: {},
      after: [
        {
          plugin: 'nx-compose-buildx',
          options: { buildTargetName: 'docker-build', pushTargetName: 'docker-push', verifyTargetName: 'docker-verify', provenance: false },
        },
      ],
    },
    {
      title: 'existing options win over defaults, include/exclude are kept',
      before: [
        {
          plugin: 'nx-compose-buildx',
          include: ['apps/**'],
          options: { buildTargetName: 'image', provenance: 'mode=max', tags: [{ type: 'latest' }] },
        },
      ],
      opts: {},
      after: [
        {
          plugin: 'nx-compose-buildx',
          include: ['apps/**'],
          options: {
            buildTargetName: 'image',
            pushTargetName: 'docker-push',
            verifyTargetName: 'docker-verify',
            provenance: 'mode=max',
            tags: [{ type: 'latest' }],
          },
        },
      ],
    },
    {
      title: 'an explicit --builder replaces the existing builder',
      before: [{ plugin: 'nx-compose-buildx', options: { builder: 'old' } }],
      opts: { builder: 'new' },
      after: [
        {
          plugin: 'nx-compose-buildx',
          options: {
            builder: 'new',
            buildTargetName: 'docker-build',
            pushTargetName: 'docker-push',
            verifyTargetName: 'docker-verify',
            provenance: false,
          },
        },
      ],
    },
    {
      title: 'other plugins are untouched and keep their order',
      before: ['@nx/js/typescript', { plugin: '@nx/docker', options: { buildTarget: 'x' } }],
      opts: {},
      after: [
        '@nx/js/typescript',
        { plugin: '@nx/docker', options: { buildTarget: 'x' } },
        {
          plugin: 'nx-compose-buildx',
          options: { buildTargetName: 'docker-build', pushTargetName: 'docker-push', verifyTargetName: 'docker-verify', provenance: false },
        },
      ],
    },
  ])('$title', ({ before, opts, after }) => {
    const out = registerPlugin({ plugins: before as never }, opts);
    expect(out.plugins).toEqual(after);
  });

  it('keeps existing sync generators and adds ours once', async () => {
    const tree = createTreeWithEmptyWorkspace();
    const nxJson = readNxJson(tree)!;
    updateNxJson(tree, { ...nxJson, sync: { globalGenerators: ['other:sync'], applyChanges: true } });
    await initGenerator(tree, { skipFormat: true });
    await initGenerator(tree, { skipFormat: true });
    expect(readNxJson(tree)!.sync).toEqual({ globalGenerators: ['other:sync', 'nx-compose-buildx:sync'], applyChanges: true });
  });
});
