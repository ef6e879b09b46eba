/**
 * The content key of a docker-push: a hash of everything that determines the image, so that an
 * image an earlier run built from the same content can be found in the registry (registry-reuse.ts).
 *
 *   - the build options that reach BuildKit: Dockerfile path or inline text, target, platforms,
 *     build args after interpolation, compose labels, secrets and ssh by id (never a value),
 *     network, shm size, extra hosts, ulimits, entitlements... Not the tags (a new tag of the same
 *     content re-tags it), not the cache locations, not run-time values (SOURCE_DATE_EPOCH, the
 *     OCI created/revision labels): a reused image keeps those of the run that built it;
 *   - the Dockerfile's text;
 *   - every file each local context sends to BuildKit, that is after its ignore rules, by content;
 *   - the digest, in its registry, of every image the Dockerfile builds on (FROM, COPY --from,
 *     RUN --mount=from) and of every `service:` context's image.
 *
 * The hashing is pure (contentKeyOf); reading the files and asking the registry is the edge.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildOptions } from '../../../build-spec/types';
import { imagetoolsInspectArgv } from '../../../buildx/argv';
import { USE_CLI, viaRegistryApi } from './registry';
import { dockerfileImageRefs, includedFiles, listContextFiles, selectIgnoreFile, fileExistsIn } from '../../../graph';
import type { ExecutorDeps } from './deps';

/** What the key is made of, all of it plain data. */
export interface ContentKeyParts {
  options: Partial<BuildOptions>;
  dockerfile: string;
  /** context name ('.' for the main one) → [context-relative path, sha256 of its bytes], sorted. */
  contexts: Record<string, Array<[string, string]>>;
  /** image ref → digest in its registry. */
  bases: Record<string, string>;
}

/** Build options that do not change the image's content, or that the run itself decides. */
const NOT_CONTENT = new Set<string>(['tags', 'cacheFrom', 'cacheTo', 'noCache', 'pull', 'context']);

export function contentKeyOf(parts: ContentKeyParts): string {
  const options = Object.fromEntries(
    Object.entries(parts.options)
      .filter(([k, v]) => !NOT_CONTENT.has(k) && v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  const stable = {
    v: 1,
    options,
    dockerfile: parts.dockerfile,
    contexts: Object.fromEntries(Object.entries(parts.contexts).sort(([a], [b]) => (a < b ? -1 : 1))),
    bases: Object.fromEntries(Object.entries(parts.bases).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  return createHash('sha256').update(JSON.stringify(stable)).digest('hex').slice(0, 32);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A local folder context, or undefined for a URL, git, `service:` or `target:` context. */
function localDir(root: string, dir: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(dir) || dir.startsWith('git@')) return undefined;
  const abs = join(root, dir);
  return existsSync(abs) && statSync(abs).isDirectory() ? abs : undefined;
}

/** The files BuildKit gets from one local context (after its ignore rules), by content. */
function contextFiles(root: string, dir: string, dockerfile: string | undefined): Array<[string, string]> {
  const abs = localDir(root, dir)!;
  const ignoreFile = selectIgnoreFile(dockerfile, dir, fileExistsIn(root));
  const rules = ignoreFile ? readFileSync(join(root, ignoreFile), 'utf8') : '';
  return includedFiles(listContextFiles(abs), rules).map((f) => [f, sha256(readFileSync(join(abs, f)))] as [string, string]);
}

/** The digest a registry serves for a reference, or undefined when it cannot be read. */
async function registryDigest(ref: string, root: string, deps: ExecutorDeps): Promise<string | undefined> {
  return deps.externalDigests ? deps.externalDigests(ref, () => askRegistryDigest(ref, root, deps)) : askRegistryDigest(ref, root, deps);
}

async function askRegistryDigest(ref: string, root: string, deps: ExecutorDeps): Promise<string | undefined> {
  const fast = await viaRegistryApi(deps, async (client) => (await client.getManifest(ref))?.digest);
  if (fast !== USE_CLI) return fast;
  const r = await deps.run(imagetoolsInspectArgv(ref, { raw: false, format: '{{json .Manifest}}' }), { cwd: root });
  if (r.exitCode !== 0) return undefined;
  try {
    return (JSON.parse(r.stdout) as { digest?: string }).digest;
  } catch {
    return undefined;
  }
}

/**
 * Reads what the key needs and returns it, or why there can be none (an image it builds on that
 * no registry serves, a remote context): then the push builds, as it would without reuse.
 */
export async function computeContentKey(
  build: BuildOptions,
  serviceImages: Record<string, string>,
  root: string,
  deps: ExecutorDeps,
): Promise<{ key: string; bases: Record<string, string> } | { none: string }> {
  const dockerfileText =
    build.dockerfileInline ??
    (build.dockerfile && existsSync(join(root, build.dockerfile)) ? readFileSync(join(root, build.dockerfile), 'utf8') : undefined);
  if (dockerfileText === undefined) return { none: 'the Dockerfile cannot be read' };

  const contexts: ContentKeyParts['contexts'] = {};
  const bases: Record<string, string> = {};
  const named = Object.entries(build.additionalContexts ?? {});
  // `FROM x` / `COPY --from=x` name a context, not an image, when x is one of the named contexts.
  const imageRefs = new Set(dockerfileImageRefs(dockerfileText, build.args, build.target, Object.keys(build.additionalContexts ?? {})));
  for (const [name, value] of [['.', build.context] as [string, string], ...named]) {
    const service = /^service:(.+)$/.exec(value);
    if (service) {
      const image = serviceImages[service[1]!];
      if (!image) return { none: `the image of the service:${service[1]} context is unknown` };
      imageRefs.add(image);
    } else if (/^docker-image:\/\//.test(value)) {
      imageRefs.add(value.slice('docker-image://'.length));
    } else if (/^target:/.test(value)) {
      continue; // a stage of this Dockerfile: already in its text
    } else if (localDir(root, value)) {
      contexts[name] = contextFiles(root, value, name === '.' ? build.dockerfile : undefined);
    } else {
      return { none: `the ${name === '.' ? 'build' : name} context ${value} is not a local folder` };
    }
  }
  const refs = [...imageRefs].filter((r) => r !== 'scratch');
  const digests = await Promise.all(refs.map((ref) => registryDigest(ref, root, deps)));
  for (const [i, ref] of refs.entries()) {
    if (!digests[i]) return { none: `no registry serves ${ref}, an image it builds on` };
    bases[ref] = digests[i]!;
  }
  return { key: contentKeyOf({ options: build, dockerfile: dockerfileText, contexts, bases }), bases };
}
