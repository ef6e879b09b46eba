import { posix } from 'node:path';
import type { ServiceBuildSpec } from '../build-spec/types';
import { contextKind } from '../build-spec/paths';

/** Folder for projects with no folder of their own. Nx needs no files there. */
export const VIRTUAL_ROOT_DIR = '.nx-compose-buildx';

/**
 * Chooses each project's root. Every service must get its own root, or Nx would
 * merge two services (or a service and an existing Nx project) into one project.
 *
 * A service's root is the first of its build context folder and its Dockerfile's
 * folder that lies inside the workspace, is not the workspace root, is a
 * candidate for no other service, and holds no project.json or package.json.
 * Otherwise it is the virtual folder `<compose folder>/.nx-compose-buildx/<project>`.
 */
export function chooseProjectRoots(specs: ServiceBuildSpec[], isProjectFolder: (workspacePath: string) => boolean): Map<string, string> {
  const candidatesOf = (spec: ServiceBuildSpec): string[] => {
    const dirs: string[] = [];
    if (contextKind(spec.context) === 'local') dirs.push(spec.context);
    if (spec.dockerfile && contextKind(spec.context) === 'local') dirs.push(posix.dirname(spec.dockerfile));
    return [...new Set(dirs)].filter((d) => d !== '.' && d !== '' && !d.startsWith('..'));
  };

  const claims = new Map<string, number>();
  for (const spec of specs) for (const dir of candidatesOf(spec)) claims.set(dir, (claims.get(dir) ?? 0) + 1);

  const roots = new Map<string, string>();
  for (const spec of specs) {
    const own = candidatesOf(spec).find((dir) => claims.get(dir) === 1 && !isProjectFolder(dir));
    roots.set(spec.project, own ?? posix.join(spec.composeDir, VIRTUAL_ROOT_DIR, spec.project));
  }
  return roots;
}
