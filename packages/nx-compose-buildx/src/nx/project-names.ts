import { ComposeError } from '../compose/types';
import type { ServiceBuildSpec } from '../build-spec/types';

/**
 * Nx project names. A service keeps its own name unless two compose projects
 * define a service of that name; then every one of them is named
 * `<compose project>-<service>`. If even those names meet, it is an error.
 */
export function assignProjectNames(specs: ServiceBuildSpec[]): { specs: ServiceBuildSpec[]; errors: ComposeError[] } {
  const byService = new Map<string, ServiceBuildSpec[]>();
  for (const spec of specs) byService.set(spec.service, [...(byService.get(spec.service) ?? []), spec]);

  const named = specs.map((spec) => {
    const clash = (byService.get(spec.service)?.length ?? 0) > 1;
    return clash ? { ...spec, project: `${spec.composeProject}-${spec.service}` } : { ...spec, project: spec.service };
  });

  const byProject = new Map<string, ServiceBuildSpec[]>();
  for (const spec of named) byProject.set(spec.project, [...(byProject.get(spec.project) ?? []), spec]);

  const errors: ComposeError[] = [];
  const kept: ServiceBuildSpec[] = [];
  for (const spec of named) {
    const rivals = byProject.get(spec.project)!;
    if (rivals.length === 1) {
      kept.push(spec);
      continue;
    }
    const others = rivals.filter((r) => r !== spec).map((r) => `${r.composeFiles[0]} (compose project "${r.composeProject}")`);
    errors.push(
      new ComposeError(
        `Nx project name "${spec.project}" is claimed by more than one compose service; also defined in ${others.join(', ')}. ` +
          'Give the compose projects different names (top-level "name:" or the plugin option composeFiles[].projectName).',
        { file: spec.composeFiles[0] ?? spec.composeDir, service: spec.service },
      ),
    );
  }
  return { specs: kept, errors };
}
