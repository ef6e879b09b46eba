/**
 * The docker-build and docker-push executor schemas, generated from the build-field table plus the
 * run settings below. scripts/build.mjs writes them to dist/nx/executors/<name>/schema.json, so
 * there is no hand-kept schema.json to drift from the code.
 */
import { buildFieldSchemas, closedObject, stringList, stringMap, type JsonSchema } from '../../../build-spec/build-fields';
import type { BuildOptions } from '../../../build-spec/types';
import type { BuildExecutorOptions } from './options';

type RunSettingKey = Exclude<keyof BuildExecutorOptions, keyof BuildOptions>;

/** Every executor option that is not a build field; the mapped type makes a missing one a type error. */
const RUN_SETTINGS: { [K in RunSettingKey]-?: JsonSchema } = {
  service: { type: 'string', description: 'Compose service name: used in messages and in the default metadata path.' },
  metadataFile: {
    type: 'string',
    description:
      'Workspace-relative path of the metadata JSON written after the build (service, tags, per-platform digests, manifest digest). Default: dist/docker/<service>/metadata.json (docker-push: push-metadata.json).',
  },
  builder: {
    description:
      'buildx builder: a name (must exist), or a spec created once when missing (`docker buildx create`, `--append` for extra nodes, then `inspect --bootstrap`). Absent: the current builder.',
    oneOf: [
      { type: 'string' },
      closedObject(
        {
          name: { type: 'string', description: 'Builder name.' },
          driver: { type: 'string', description: 'buildx driver, e.g. docker-container (default when created).' },
          driverOpts: { ...stringMap, description: '`--driver-opt k=v` entries.' },
          platforms: { ...stringList, description: 'Platforms of the first node (`--platform`).' },
          nodes: {
            type: 'array',
            description: 'Extra nodes appended with `docker buildx create --append`.',
            items: closedObject(
              {
                name: { type: 'string', description: 'Node name.' },
                endpoint: { type: 'string', description: 'Docker endpoint / context of the node.' },
                platforms: { ...stringList, description: 'Platforms this node builds.' },
                driverOpts: { ...stringMap, description: '`--driver-opt` entries for this node.' },
              },
              ['name', 'endpoint'],
            ),
          },
          use: {
            type: 'boolean',
            description:
              "Make the builder buildx's current builder when it is created (`--use`). Default false: the user's current builder is left alone.",
          },
        },
        ['name'],
      ),
    ],
  },
  provenance: {
    type: ['string', 'boolean'],
    description: '`--provenance` value. Default false, so the manifest list holds only the platform images.',
    default: false,
  },
  sbom: { type: ['string', 'boolean'], description: '`--sbom` value. Default false.', default: false },
  dryRun: { type: 'boolean', description: 'Print the exact commands (shell-quoted for reading) and run nothing.', default: false },
  generatedTags: {
    type: 'array',
    description:
      'Tags generated at run time from git, like docker/metadata-action: {type: semver, pattern}, {type: ref, event: branch|tag}, {type: sha, prefix?, length?}, {type: raw, value}, {type: latest} (default branch only). Applied to each image name of the service.',
    items: {
      type: 'object',
      properties: {
        type: { type: 'string', enum: ['semver', 'ref', 'sha', 'raw', 'latest'], description: 'Rule type.' },
        pattern: { type: 'string', description: 'semver: {{version}}, {{major}}.{{minor}}, {{major}}, {{patch}}, {{raw}}.' },
        event: { type: 'string', enum: ['branch', 'tag'], description: 'ref: use the branch or the git tag.' },
        prefix: { type: 'string', description: 'sha: prefix (default sha-).' },
        length: { type: 'integer', description: 'sha: number of characters (default 7).' },
        value: { type: 'string', description: 'raw: the tag.' },
      },
      required: ['type'],
    },
  },
  ociLabels: {
    type: 'boolean',
    description:
      'Add org.opencontainers.image.{created,revision,source,version} labels, computed at run time (never part of the Nx cache key).',
    default: true,
  },
  rewriteTimestamp: {
    type: 'boolean',
    default: true,
    description:
      'Clamp the file times in every layer to SOURCE_DATE_EPOCH (BuildKit rewrite-timestamp), so an image rebuilt with no cache keeps its digest. The build writes an OCI layout, which a second `docker buildx build` (a FROM of it, no RUN) pushes or loads: dockerd 26 refuses rewrite-timestamp on its own image exporter. Off with provenance or an SBOM.',
  },
  serviceImages: {
    ...stringMap,
    description: 'Service name → its first tag, for `service:x` build contexts (become docker-image://<tag>).',
  },
  checkPlatforms: {
    type: 'boolean',
    description: 'Before building, fail when the builder or qemu (binfmt_misc) cannot build a declared platform.',
    default: true,
  },
  loadMultiPlatform: {
    type: 'boolean',
    description:
      'docker-build with several platforms: `--load` the manifest list into the image store. Default: true on the docker driver (containerd image store), false on other drivers (the result stays in the builder cache). docker-push ignores it.',
  },
  progress: {
    type: 'string',
    enum: ['auto', 'plain', 'tty', 'quiet'],
    description: 'BuildKit progress output. Default: plain when not a TTY or CI is set, else auto.',
  },
  timeout: {
    type: 'number',
    exclusiveMinimum: 0,
    description:
      'Seconds `docker buildx build` may run before it is stopped (a half-open registry connection must not hold a batch slot forever). Queries (builder and registry inspect, git) stop after at most 10 minutes. Also set by the environment variable NX_COMPOSE_BUILDX_TIMEOUT. Default 10800 (3 h).',
  },
  reuse: {
    type: 'boolean',
    default: true,
    description:
      'docker-push: before building, look the image up in the registry by its content key (<repository>:nxcb-<key>: a hash of the build options, the Dockerfile, the files each context sends and the digests of the images it builds on) and, on a hit, tag it under every tag instead of building. NX_COMPOSE_BUILDX_REUSE=false turns it off for one run.',
  },
  manifestList: {
    type: 'boolean',
    default: false,
    description:
      'docker-push: publish a single-platform image as a one-entry manifest list (an OCI index) under every tag, for registries and deploy tools that need a list. buildx pushes one platform as a plain manifest, so the image is pushed under its first tag and then listed under every tag with `docker buildx imagetools create`; the push is confirmed only when every tag serves the list. Services with several platforms are always pushed as a list.',
  },
  onlyPlatforms: {
    ...stringList,
    description:
      "docker-push: build only these of the service's declared platforms, push each by digest (push-by-digest=true,name-canonical=true; no tag is touched) and write one digest file per platform for docker-merge: a native runner's leg. A service that declares none of them does nothing. Also set by the environment variable NX_COMPOSE_BUILDX_PLATFORMS (comma list); the option wins.",
  },
  digestsDir: {
    type: 'string',
    description:
      'Workspace-relative folder of the digest files a platform-restricted docker-push writes (<dir>/<project>/<os>-<arch>[-<variant>].json) and docker-merge reads. Also NX_COMPOSE_BUILDX_DIGESTS_DIR. Default dist/nxcb-digests.',
  },
  cacheReadOnly: {
    type: 'boolean',
    description:
      'Read the build cache but write none (drops every --cache-to), for pull-request builds. Also turned on by the environment variable NX_COMPOSE_BUILDX_CACHE_READONLY=true.',
  },
};

/** docker-build looks keys up only when asked; it never writes one. */
const DOCKER_BUILD_REUSE: JsonSchema = {
  type: 'boolean',
  default: false,
  description:
    'docker-build: before building, look the image up in the registry by its content key (as docker-push does) and, on a hit, load it under every tag instead of building (all platforms, by a FROM of it: no RUN step runs); the metadata says "reused". Never writes a key. NX_COMPOSE_BUILDX_REUSE=true turns it on for one run, =false off.',
};

const TITLES = {
  'docker-build': 'Build every platform of a compose service with docker buildx; pushes nothing; writes per-platform digests.',
  'docker-push': 'Build and push one manifest list under all tags; succeeds only when the registry serves every platform.',
};

export type BuildExecutorName = keyof typeof TITLES;
export const BUILD_EXECUTORS = Object.keys(TITLES) as BuildExecutorName[];

export function buildExecutorSchema(name: BuildExecutorName): JsonSchema {
  const { service, ...settings } = RUN_SETTINGS;
  if (name === 'docker-build') settings.reuse = DOCKER_BUILD_REUSE;
  return {
    $schema: 'http://json-schema.org/draft-07/schema',
    version: 2,
    title: name,
    description: TITLES[name],
    type: 'object',
    outputCapture: 'direct-nodejs',
    properties: { service, ...buildFieldSchemas(), ...settings },
    required: ['service', 'context'],
  };
}
