import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { buildOptionsFrom, withoutEmptyFields } from '../build-spec/build-fields';
import type { ServiceBuildSpec } from '../build-spec/types';
import { definitionHashMetadata } from './definition-hash-metadata';
import type { NormalizedPluginOptions } from './plugin-options';
import { withTagSuffix } from '../buildx/image-ref';
import { platformSlug, platformTagSuffix } from '../buildx/platform';
import { serviceCache } from './workspace-cache';
import type { ComposeRunOption } from './executors/docker-explain/load-side';
import { PLATFORMS_ENV } from './native-leg';

/** A platform-restricted run (a native runner's leg) builds or pushes something else: never a cache hit of a full run. */
const PUSH_RUN_INPUTS: InputDefinition[] = [{ env: PLATFORMS_ENV }];

/** One entry of a target's `inputs`: a file glob, `{ env }`, `{ json, fields }`, ... */
export type InputDefinition = NonNullable<TargetConfiguration['inputs']>[number];

/** The project-level named input holding every file and variable that can change a service's image. */
export const IMAGE_INPUTS = 'docker-image';

/** One service, with what the graph stage found out about it. */
export interface ServiceNode {
  spec: ServiceBuildSpec;
  root: string;
  /** Projects whose images this one builds on (FROM, COPY --from, RUN --mount=from, service: contexts). */
  dependencies: string[];
  /** Inputs of this service's own image (its dependencies' come in through `^docker-image`). */
  imageInputs: InputDefinition[];
  /** First tag of each service this one names in a `service:` context, so buildx can be given an image. */
  serviceImages: Record<string, string>;
  /** Hash of the service's compose definition, kept in project metadata for the sync generator. */
  definitionHash?: string;
  /** Built per platform: platform → that platform's own inputs and lock entry (see isPerPlatform). */
  platforms?: Record<string, PlatformNode>;
  /** The compose run the service comes from, for docker-explain to load it again at another commit. */
  compose?: ComposeRunOption;
}

export interface PlatformNode {
  /** Inputs of this platform alone: its lock entry (or the compose files) and its config files. */
  inputs: InputDefinition[];
  /** Lock name (`<project>@<platform-slug>`) → hash, for the sync generator. */
  lockName: string;
  definitionHash?: string;
}

type TargetDocs = (
  target: string,
  what: string,
  example: { options?: Record<string, unknown>; args?: string[] },
) => TargetConfiguration['metadata'];

/**
 * `nx show project` / the graph UI fold targets by group, as @nx/docker does: the service's own
 * targets in "Docker", and each platform's config/build/push in its own group.
 */
export function targetGroups(node: ServiceNode, options: NormalizedPluginOptions): Record<string, string[]> {
  const names = options.targetNames;
  const groups: Record<string, string[]> = {
    Docker: [names.build, names.push, names.verify, ...(node.compose ? [names.explain] : []), names.merge],
  };
  const hasConfig = node.spec.platformConfig !== undefined;
  for (const platform of Object.keys(node.platforms ?? {})) {
    groups[`Docker ${platform}`] = [
      ...(hasConfig ? [platformTargetName(CONFIG_TARGET, platform)] : []),
      platformTargetName(names.build, platform),
      platformTargetName(names.push, platform),
    ];
  }
  return groups;
}

/** A service with platform-specific args or config is built one platform at a time. */
export function isPerPlatform(spec: ServiceBuildSpec): boolean {
  return spec.platforms.length > 0 && (spec.platformArgs !== undefined || spec.platformConfig !== undefined);
}

/** Name of the per-platform variant of a target: `docker-push--linux-arm64`. */
export function platformTargetName(target: string, platform: string): string {
  return `${target}--${platformSlug(platform)}`;
}

export const CONFIG_TARGET = 'docker-config';

export function configOutputDir(project: string, platform: string): string {
  return `dist/docker-config/${project}/${platformSlug(platform)}`;
}

/** The tag of one platform's own image: `<tag>-<suffix>` (`app:1.0-arm64`; an untagged `app` → `app:latest-arm64`). */
export function platformTag(tag: string, platform: string): string {
  return withTagSuffix(tag, platformTagSuffix(platform));
}

export function metadataFile(project: string, kind: 'build' | 'push'): string {
  return `dist/docker/${project}/${kind === 'build' ? 'metadata.json' : 'push-metadata.json'}`;
}

/** The options every target shows: the fully resolved build, as `nx show project` prints it. */
function resolvedBuildOptions(node: ServiceNode, options: NormalizedPluginOptions, platform?: string): Record<string, unknown> {
  const { spec } = node;
  // Each platform's image has its own cache ref: two platforms writing one ref would evict each other.
  const cacheName = platform ? `${spec.project}-${platformTagSuffix(platform)}` : spec.project;
  const cache = serviceCache(options.cache, cacheName, spec.tags[0], spec);
  const additionalContexts =
    platform && spec.platformConfig
      ? { ...spec.additionalContexts, config: configOutputDir(spec.project, platform) }
      : spec.additionalContexts;
  const build: Record<string, unknown> = {
    service: spec.service,
    ...buildOptionsFrom(spec),
    platforms: platform ? [platform] : spec.platforms,
    args: platform ? { ...spec.args, ...spec.platformArgs?.[platform] } : spec.args,
    tags: platform ? spec.tags.map((t) => platformTag(t, platform)) : spec.tags,
    cacheFrom: cache.cacheFrom,
    cacheTo: cache.cacheTo,
    additionalContexts,
  };
  if (Object.keys(node.serviceImages).length) build.serviceImages = node.serviceImages;
  if (options.builder !== undefined) build.builder = options.builder;
  if (options.provenance !== undefined) build.provenance = options.provenance;
  if (options.sbom !== undefined) build.sbom = options.sbom;
  // Generated tags name the manifest list, never one platform's image.
  if (options.generatedTags.length && !platform) build.generatedTags = options.generatedTags;
  if (options.ociLabels === false) build.ociLabels = false;
  if (!options.reuse) build.reuse = false;
  return withoutEmptyFields(build);
}

function platformDefinitionHashes(node: ServiceNode): Record<string, string> | undefined {
  if (!node.platforms) return undefined;
  const out: Record<string, string> = {};
  for (const p of Object.values(node.platforms)) if (p.definitionHash) out[p.lockName] = p.definitionHash;
  return out;
}

/**
 * A service built per platform: per platform a config target (with platformConfig), a build and
 * a push of `<tag>-<suffix>`; docker-build runs every platform's build, and docker-push assembles
 * the manifest list from the platform images with `docker buildx imagetools create`.
 */
function perPlatformTargets(node: ServiceNode, options: NormalizedPluginOptions, docs: TargetDocs): Record<string, TargetConfiguration> {
  const { spec } = node;
  const names = options.targetNames;
  const targets: Record<string, TargetConfiguration> = {};
  const platformImages: Record<string, string> = {};
  const allInputs: InputDefinition[] = [];
  for (const [platform, own] of Object.entries(node.platforms!)) {
    const slug = platformSlug(platform);
    const build = resolvedBuildOptions(node, options, platform);
    const inputs: InputDefinition[] = [IMAGE_INPUTS, `^${IMAGE_INPUTS}`, ...own.inputs];
    allInputs.push(...own.inputs);
    platformImages[platform] = platformTag(spec.tags[0], platform);
    const config = spec.platformConfig;
    const configTarget = platformTargetName(CONFIG_TARGET, platform);
    if (config) {
      const overlay = config.overlays[platform];
      targets[configTarget] = {
        executor: 'nx-compose-buildx:docker-config',
        options: {
          base: config.base,
          ...(overlay ? { overlay } : {}),
          name: config.name,
          outputPath: configOutputDir(spec.project, platform),
        },
        inputs: [`{workspaceRoot}/${config.base}`, ...(overlay ? [`{workspaceRoot}/${overlay}`] : [])],
        outputs: [`{workspaceRoot}/${configOutputDir(spec.project, platform)}`],
        cache: true,
        metadata: docs(configTarget, `Merge ${config.name} for ${platform} (${[config.base, overlay].filter(Boolean).join(' + ')})`, {
          options: { name: config.name },
        }),
      };
    }
    const dependsOn = config ? [configTarget] : [];
    const buildTarget = platformTargetName(names.build, platform);
    const pushTarget = platformTargetName(names.push, platform);
    targets[buildTarget] = {
      executor: 'nx-compose-buildx:docker-build',
      options: { ...build, metadataFile: `dist/docker/${spec.project}/${slug}/metadata.json` },
      inputs: [...inputs, ...PUSH_RUN_INPUTS],
      outputs: [`{workspaceRoot}/dist/docker/${spec.project}/${slug}/metadata.json`],
      dependsOn: [`^${names.build}`, ...dependsOn],
      cache: true,
      metadata: docs(buildTarget, `Build ${spec.service} for ${platform} alone, with its own args and config`, {
        options: { dryRun: true },
      }),
    };
    targets[pushTarget] = {
      executor: 'nx-compose-buildx:docker-push',
      options: { ...build, metadataFile: `dist/docker/${spec.project}/${slug}/push-metadata.json` },
      inputs: [...inputs, ...PUSH_RUN_INPUTS],
      outputs: [`{workspaceRoot}/dist/docker/${spec.project}/${slug}/push-metadata.json`],
      dependsOn: [`^${names.push}`, ...dependsOn],
      cache: !options.reuse, // with reuse the registry is the cache (registry-reuse.ts)
      metadata: docs(
        pushTarget,
        `Build ${spec.service} for ${platform} alone and push it as ${((build.tags as string[] | undefined) ?? []).join(', ')}`,
        {
          options: { dryRun: true },
        },
      ),
    };
  }
  const platforms = Object.keys(node.platforms!);
  targets[names.build] = {
    executor: 'nx:noop',
    // `nx run <svc>:docker-build --dryRun` dry-runs every platform's build.
    dependsOn: platforms.map((p) => ({ target: platformTargetName(names.build, p), params: 'forward' as const })),
    cache: false,
    metadata: docs(
      names.build,
      `Build every platform of ${spec.service}, one task per platform (${platforms.map((p) => platformTargetName(names.build, p)).join(', ')})`,
      {
        args: ['--dryRun'],
      },
    ),
  };
  targets[names.push] = {
    executor: 'nx-compose-buildx:docker-manifest',
    options: {
      service: spec.service,
      tags: spec.tags,
      ...(options.generatedTags.length ? { generatedTags: options.generatedTags } : {}),
      platformImages,
      metadataFile: metadataFile(spec.project, 'push'),
      ...(options.builder !== undefined ? { builder: options.builder } : {}),
    },
    inputs: [IMAGE_INPUTS, `^${IMAGE_INPUTS}`, ...allInputs, ...PUSH_RUN_INPUTS],
    outputs: [`{workspaceRoot}/${metadataFile(spec.project, 'push')}`],
    dependsOn: [`^${names.push}`, ...platforms.map((p) => platformTargetName(names.push, p))],
    cache: !options.reuse, // with reuse the registry is the cache (registry-reuse.ts)
    metadata: docs(
      names.push,
      `Assemble the manifest list ${spec.tags.join(', ')} from the platform images (docker buildx imagetools create)`,
      {
        options: { dryRun: true },
      },
    ),
  };
  return targets;
}

/**
 * docker-explain: selected by `nx affected` exactly when docker-push is (the same inputs), it
 * loads the service at the base commit and says why the image may differ; it builds nothing and
 * is never cached (executors/docker-explain).
 */
function explainTarget(node: ServiceNode, options: NormalizedPluginOptions, docs: TargetDocs): TargetConfiguration {
  const { spec } = node;
  const names = options.targetNames;
  const platforms = Object.keys(node.platforms ?? {});
  return {
    executor: 'nx-compose-buildx:docker-explain',
    options: {
      service: spec.service,
      compose: node.compose,
      pushTargets: platforms.length ? platforms.map((p) => platformTargetName(names.push, p)) : [names.push],
    },
    inputs: [IMAGE_INPUTS, `^${IMAGE_INPUTS}`, ...Object.values(node.platforms ?? {}).flatMap((p) => p.inputs)],
    cache: false,
    metadata: docs(names.explain, `Explain why the image of ${spec.service} may differ from the base commit's (builds nothing)`, {
      args: ['--base=main', '--json'],
    }),
  };
}

/**
 * The merge job of native runners: the manifest list from the digest files the legs wrote. Its inputs
 * are the push's, so `nx affected` selects the same services; no dependsOn (the legs ran in other
 * jobs) and never cached (it reads a folder that is not an input).
 */
function mergeTarget(node: ServiceNode, options: NormalizedPluginOptions, docs: TargetDocs): TargetConfiguration {
  const { spec } = node;
  const platformInputs = Object.values(node.platforms ?? {}).flatMap((p) => p.inputs);
  return {
    executor: 'nx-compose-buildx:docker-merge',
    options: {
      service: spec.service,
      tags: spec.tags,
      ...(options.generatedTags.length ? { generatedTags: options.generatedTags } : {}),
      platforms: spec.platforms,
      metadataFile: metadataFile(spec.project, 'push'),
      ...(options.builder !== undefined ? { builder: options.builder } : {}),
    },
    inputs: [IMAGE_INPUTS, `^${IMAGE_INPUTS}`, ...platformInputs],
    cache: false,
    metadata: docs(
      options.targetNames.merge,
      `Assemble ${spec.tags.join(', ')} from the digest files of per-platform runners (NX_COMPOSE_BUILDX_DIGESTS_DIR)`,
      { options: { dryRun: true } },
    ),
  };
}

export function projectConfiguration(node: ServiceNode, options: NormalizedPluginOptions): ProjectConfiguration {
  const { spec } = node;
  const names = options.targetNames;
  const build = resolvedBuildOptions(node, options);
  // Nx runs `help.command` to show a target's options (graph UI, Nx Console); the example is for that target.
  const docs: TargetDocs = (target, what, example) => ({
    description: what,
    technologies: ['docker'],
    help: { command: `npx nx run ${spec.project}:${target} --help`, example },
  });

  const targets: Record<string, TargetConfiguration> = {
    [names.build]: {
      executor: 'nx-compose-buildx:docker-build',
      options: { ...build, metadataFile: metadataFile(spec.project, 'build') },
      inputs: [IMAGE_INPUTS, `^${IMAGE_INPUTS}`, ...PUSH_RUN_INPUTS],
      outputs: [`{workspaceRoot}/${metadataFile(spec.project, 'build')}`],
      dependsOn: [`^${names.build}`],
      cache: true,
      metadata: docs(
        names.build,
        `Build ${spec.service} for ${spec.platforms.join(', ') || 'the builder platform'} with docker buildx (pushes nothing)`,
        {
          options: { dryRun: true },
        },
      ),
    },
    [names.push]: {
      executor: 'nx-compose-buildx:docker-push',
      options: { ...build, metadataFile: metadataFile(spec.project, 'push') },
      inputs: [IMAGE_INPUTS, `^${IMAGE_INPUTS}`, ...PUSH_RUN_INPUTS],
      outputs: [`{workspaceRoot}/${metadataFile(spec.project, 'push')}`],
      dependsOn: [`^${names.push}`],
      cache: !options.reuse, // with reuse the registry is the cache (registry-reuse.ts)
      metadata: docs(names.push, `Build ${spec.service} and push one manifest list under ${spec.tags.join(', ')}`, {
        options: { dryRun: true },
      }),
    },
    [names.verify]: {
      executor: 'nx-compose-buildx:docker-verify',
      options: {
        service: spec.service,
        image: spec.tags[0],
        // The push this verify depends on records its digest here (docker-push or docker-manifest).
        pushMetadataFile: metadataFile(spec.project, 'push'),
        platforms: spec.platforms,
        ...(spec.verifyCommand ? { verifyCommand: spec.verifyCommand } : {}),
        // imagetools reads the registry through the builder the push used (its registry config).
        ...(options.builder !== undefined ? { builder: options.builder } : {}),
      },
      // The image's own inputs: verify is selected by what can change the image, and is hashable on a
      // virtual root (a root with no files, where Nx's default `{projectRoot}/**/*` names no project files).
      inputs: [IMAGE_INPUTS, `^${IMAGE_INPUTS}`],
      dependsOn: [names.push],
      cache: false,
      metadata: docs(
        names.verify,
        `Check that the registry serves every platform of ${spec.service} and that each one runs (${
          spec.verifyCommand ? spec.verifyCommand.join(' ') : 'uname -m'
        })`,
        // Check one platform only, against the image already pushed.
        { options: { platforms: spec.platforms.slice(-1) }, args: ['--exclude-task-dependencies'] },
      ),
    },
  };

  if (node.platforms) Object.assign(targets, perPlatformTargets(node, options, docs));
  if (node.compose) targets[names.explain] = explainTarget(node, options, docs);
  targets[names.merge] = mergeTarget(node, options, docs);

  return {
    name: spec.project,
    root: node.root,
    projectType: 'application',
    tags: ['docker', `compose:${spec.composeProject}`],
    ...(node.dependencies.length ? { implicitDependencies: node.dependencies } : {}),
    namedInputs: { [IMAGE_INPUTS]: node.imageInputs },
    targets,
    metadata: {
      technologies: ['docker'],
      description: `Compose service "${spec.service}" (${spec.composeFiles.join(', ')})`,
      targetGroups: targetGroups(node, options),
      ...(node.definitionHash ? definitionHashMetadata(node.definitionHash, platformDefinitionHashes(node)) : {}),
    },
  };
}
