import { posix } from 'node:path';
import type { ProjectConfiguration } from '@nx/devkit';
import { VIRTUAL_ROOT_DIR } from './project-roots';
import type { NormalizedPluginOptions } from './plugin-options';

/**
 * Nx aborts the whole project graph when a plugin throws, so one broken compose
 * file would stop every other service from building. Instead, a compose file
 * (or service) that cannot be read becomes a project whose targets fail with
 * the error: the graph loads, `nx run-many` fails exactly the broken task, and
 * `nx show project` shows the message.
 */
export function errorProject(
  name: string,
  composeDir: string,
  message: string,
  watchedFiles: string[],
  options: NormalizedPluginOptions,
): ProjectConfiguration {
  const target = {
    executor: 'nx-compose-buildx:config-error',
    options: { message },
    inputs: watchedFiles.map((f) => `{workspaceRoot}/${f}`),
    cache: false,
    metadata: { description: `Fails: ${message}`, technologies: ['docker'] },
  };
  const { build, push, verify, merge } = options.targetNames;
  return {
    name,
    root: posix.join(composeDir, VIRTUAL_ROOT_DIR, rootSegment(name)),
    tags: ['docker', 'compose-error'],
    targets: { [build]: target, [push]: target, [verify]: target, [merge]: target },
    metadata: { description: `Compose configuration error: ${message}`, technologies: ['docker'] },
  };
}

/** One path segment for the project's virtual root, whatever the name holds (`../x` stays below the folder). */
function rootSegment(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe === '.' || safe === '..' || safe === '' ? `_${safe}` : safe;
}
