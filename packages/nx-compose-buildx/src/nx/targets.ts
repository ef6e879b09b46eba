import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import type { ServiceBuildSpec } from '../build-spec/types';
import { definitionHashMetadata } from './definition-hash-metadata';
import type { NormalizedPluginOptions } from './plugin-options';
import { serviceCache } from './workspace-cache';

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
}

export function metadataFile(project: string, kind: 'build' | 'push'): string {
  return `dist/docker/${project}/${kind === 'build' ? 'metadata.json' : 'push-metadata.json'}`;
}

/** The options every target shows: the fully resolved build, as `nx show project` prints it. */
function resolvedBuildOptions(node: ServiceNode, options: NormalizedPluginOptions): Record<string, unknown> {
  const { spec } = node;
  const cache = serviceCache(options.cache, spec.project, spec.tags[0], spec);
  const build: Record<string, unknown> = {
    service: spec.service,
    context: spec.context,
    ...(spec.dockerfile !== undefined ? { dockerfile: spec.dockerfile } : {}),
    ...(spec.dockerfileInline !== undefined ? { dockerfileInline: spec.dockerfileInline } : {}),
    platforms: spec.platforms,
    args: spec.args,
    ...(spec.target !== undefined ? { target: spec.target } : {}),
    tags: spec.tags,
    labels: spec.labels,
    cacheFrom: cache.cacheFrom,
    cacheTo: cache.cacheTo,
    secrets: spec.secrets,
    ssh: spec.ssh,
    additionalContexts: spec.additionalContexts,
    ...(spec.network !== undefined ? { network: spec.network } : {}),
    ...(spec.shmSize !== undefined ? { shmSize: spec.shmSize } : {}),
    extraHosts: spec.extraHosts,
    ...(spec.noCache !== undefined ? { noCache: spec.noCache } : {}),
    ...(spec.pull !== undefined ? { pull: spec.pull } : {}),
  };
  if (Object.keys(node.serviceImages).length) build.serviceImages = node.serviceImages;
  if (options.builder !== undefined) build.builder = options.builder;
  if (options.provenance !== undefined) build.provenance = options.provenance;
  if (options.sbom !== undefined) build.sbom = options.sbom;
  if (options.generatedTags.length) build.generatedTags = options.generatedTags;
  if (options.ociLabels === false) build.ociLabels = false;
  return build;
}

export function projectConfiguration(node: ServiceNode, options: NormalizedPluginOptions): ProjectConfiguration {
  const { spec } = node;
  const names = options.targetNames;
  const build = resolvedBuildOptions(node, options);
  const docs = (what: string, example: Record<string, unknown>) => ({
    description: what,
    technologies: ['docker'],
    help: {
      command: `npx nx run ${spec.project}:${names.build} --dryRun`,
      example: { options: example },
    },
  });

  const targets: Record<string, TargetConfiguration> = {
    [names.build]: {
      executor: 'nx-compose-buildx:docker-build',
      options: { ...build, metadataFile: metadataFile(spec.project, 'build') },
      inputs: [IMAGE_INPUTS, `^${IMAGE_INPUTS}`],
      outputs: [`{workspaceRoot}/${metadataFile(spec.project, 'build')}`],
      dependsOn: [`^${names.build}`],
      cache: true,
      metadata: docs(
        `Build ${spec.service} for ${spec.platforms.join(', ') || 'the builder platform'} with docker buildx (pushes nothing)`,
        { dryRun: true },
      ),
    },
    [names.push]: {
      executor: 'nx-compose-buildx:docker-push',
      options: { ...build, metadataFile: metadataFile(spec.project, 'push') },
      inputs: [IMAGE_INPUTS, `^${IMAGE_INPUTS}`],
      outputs: [`{workspaceRoot}/${metadataFile(spec.project, 'push')}`],
      dependsOn: [`^${names.push}`],
      cache: true,
      metadata: docs(`Build ${spec.service} and push one manifest list under ${spec.tags.join(', ')}`, { dryRun: true }),
    },
    [names.verify]: {
      executor: 'nx-compose-buildx:docker-verify',
      options: {
        service: spec.service,
        image: spec.tags[0],
        platforms: spec.platforms,
        ...(spec.verifyCommand ? { verifyCommand: spec.verifyCommand } : {}),
      },
      dependsOn: [names.push],
      cache: false,
      metadata: docs(
        `Check that the registry serves every platform of ${spec.service} and that each one runs (${
          spec.verifyCommand ? spec.verifyCommand.join(' ') : 'uname -m'
        })`,
        { dryRun: true },
      ),
    },
  };

  return {
    name: spec.project,
    root: node.root,
    projectType: 'application',
    tags: ['docker', `compose:${spec.composeProject}`],
    implicitDependencies: node.dependencies,
    namedInputs: { [IMAGE_INPUTS]: node.imageInputs },
    targets,
    metadata: {
      technologies: ['docker'],
      description: `Compose service "${spec.service}" (${spec.composeFiles.join(', ')})`,
      ...(node.definitionHash ? definitionHashMetadata(node.definitionHash) : {}),
    },
  };
}
