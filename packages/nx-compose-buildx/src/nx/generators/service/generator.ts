import { formatFiles, generateFiles, joinPathFragments, logger, type Tree } from '@nx/devkit';
import { join, posix, relative } from 'node:path';
import { normalizePlatforms } from '../../../buildx/platform';
import { EXTENSION_KEY } from '../../../build-spec/extension';
import { addComposeService, ComposeEditError } from '../shared/compose-file';
import type { ServiceGeneratorSchema, ServiceLanguage } from './schema';

export const SERVICE_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const LANGUAGES: readonly ServiceLanguage[] = ['go', 'node', 'python', 'rust', 'static'];

/** Build args of each template: the toolchain (build stage) image and the final image. */
export const IMAGE_ARGS: Record<ServiceLanguage, { build?: string; runtime: string }> = {
  go: { build: 'GO_IMAGE', runtime: 'RUNTIME_IMAGE' },
  rust: { build: 'RUST_IMAGE', runtime: 'RUNTIME_IMAGE' },
  node: { build: 'NODE_IMAGE', runtime: 'RUNTIME_IMAGE' },
  python: { build: 'PYTHON_IMAGE', runtime: 'RUNTIME_IMAGE' },
  static: { runtime: 'BASE_IMAGE' },
};

/**
 * How docker-verify checks each language's image. go and rust images are distroless (no `uname`), so
 * their app has a self-test mode: it exits non-zero unless the kernel's (emulated) machine matches the
 * architecture it was compiled for.
 */
const VERIFY_COMMANDS: Partial<Record<ServiceLanguage, string[]>> = {
  go: ['/app', '--self-test'],
  rust: ['/app', '--self-test'],
};

export interface NormalizedServiceOptions {
  name: string;
  language: ServiceLanguage;
  platforms: string[];
  compose: string;
  directory: string;
  /** Build context as written in the compose file (relative to the compose file's folder). */
  context: string;
  image: string;
  buildArgs: Record<string, string>;
}

function posixPath(p: string): string {
  return p.split('\\').join('/');
}

export function normalizeServiceOptions(options: ServiceGeneratorSchema): NormalizedServiceOptions {
  const name = (options.name ?? '').trim();
  if (!SERVICE_NAME_PATTERN.test(name)) {
    throw new Error(
      `Invalid service name "${name}": compose service names must match ${SERVICE_NAME_PATTERN.source} ` +
        `(letters, digits, "_", "." and "-", not starting with a punctuation mark), e.g. "api" or "image-resizer".`,
    );
  }
  if (!LANGUAGES.includes(options.language)) {
    throw new Error(`Unknown language "${options.language}": choose one of ${LANGUAGES.join(', ')}.`);
  }
  const rawPlatforms = Array.isArray(options.platforms) ? options.platforms : (options.platforms ?? 'linux/amd64,linux/arm64').split(',');
  const trimmed = rawPlatforms.map((p) => p.trim()).filter(Boolean);
  if (trimmed.length === 0) throw new Error('No platform given: pass --platforms, e.g. linux/amd64,linux/arm64.');
  const platforms = normalizePlatforms(trimmed);
  const nonLinux = platforms.filter((p) => !p.startsWith('linux/'));
  if (nonLinux.length) {
    throw new Error(`The ${options.language} template builds Linux images only; unsupported platform(s): ${nonLinux.join(', ')}.`);
  }
  const compose = posixPath(posix.normalize(options.compose ?? 'compose.yaml')).replace(/^\.\//, '');
  if (compose.startsWith('../') || posix.isAbsolute(compose)) {
    throw new Error(`--compose must be a path inside the workspace, relative to its root; got "${options.compose}".`);
  }
  const composeDir = posix.dirname(compose);
  const directory = posixPath(
    posix.normalize(options.directory ?? joinPathFragments(composeDir === '.' ? '' : composeDir, 'services', name)),
  )
    .replace(/^\.\//, '')
    .replace(/\/$/, '');
  if (directory.startsWith('../') || posix.isAbsolute(directory)) {
    throw new Error(`--directory must be a path inside the workspace, relative to its root; got "${options.directory}".`);
  }
  const rel = posixPath(relative(composeDir, directory)) || '.';
  const context = rel === '.' || rel.startsWith('../') ? rel : `./${rel}`;
  const image = options.image ?? `\${REGISTRY:-localhost:5000}/${name.toLowerCase()}:\${TAG:-latest}`;
  const args = IMAGE_ARGS[options.language];
  const buildArgs: Record<string, string> = {};
  if (options.buildImage) {
    if (!args.build) throw new Error(`--buildImage does not apply to the ${options.language} template (it has no build stage image).`);
    buildArgs[args.build] = options.buildImage;
  }
  if (options.baseImage) buildArgs[args.runtime] = options.baseImage;
  return { name, language: options.language, platforms, compose, directory, context, image, buildArgs };
}

/** The compose service entry the generator adds. */
export function composeEntry(o: NormalizedServiceOptions): Record<string, unknown> {
  const build: Record<string, unknown> = { context: o.context };
  if (Object.keys(o.buildArgs).length) build.args = o.buildArgs;
  build.platforms = o.platforms;
  const entry: Record<string, unknown> = { image: o.image, build };
  const verify = VERIFY_COMMANDS[o.language];
  if (verify) entry[EXTENSION_KEY] = { verify };
  return entry;
}

export async function serviceGenerator(tree: Tree, options: ServiceGeneratorSchema): Promise<void> {
  const o = normalizeServiceOptions(options);
  if (o.name !== o.name.toLowerCase()) {
    logger.warn(`Service name "${o.name}" has upper-case letters; lower case is recommended (image and project names).`);
  }
  const composeText = tree.exists(o.compose) ? (tree.read(o.compose, 'utf-8') ?? '') : undefined;
  let nextCompose: string;
  try {
    nextCompose = addComposeService(composeText, o.name, composeEntry(o), {
      path: o.compose,
      flowLists: [
        ['build', 'platforms'],
        [EXTENSION_KEY, 'verify'],
      ],
    });
  } catch (e) {
    if (e instanceof ComposeEditError) throw new Error(e.message, { cause: e });
    throw e;
  }
  for (const file of ['Dockerfile', '.dockerignore']) {
    const path = joinPathFragments(o.directory, file);
    if (tree.exists(path)) throw new Error(`${path} already exists; choose another --directory or remove it.`);
  }
  const toRoot = posixPath(relative(o.directory, '.')) || '.';
  generateFiles(tree, join(__dirname, 'files', o.language), o.directory, {
    name: o.name,
    platforms: o.platforms,
    compose: o.compose,
    toRoot,
    dot: '.',
    tmpl: '',
  });
  generateFiles(tree, join(__dirname, 'files', 'common'), o.directory, { name: o.name, dot: '.', tmpl: '' });
  tree.write(o.compose, nextCompose);
  if (!options.skipFormat) await formatFiles(tree);
  logger.info(
    `Added service "${o.name}" (${o.language}, ${o.platforms.join(', ')}) to ${o.compose}; sources in ${o.directory}. ` +
      `Run "nx sync" before committing.`,
  );
}

export default serviceGenerator;

// Exported for tests: where templates live.
export const TEMPLATES_DIR = join(__dirname, 'files');
