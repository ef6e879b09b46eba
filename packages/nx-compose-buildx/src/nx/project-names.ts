import { ComposeError } from '../compose/types';
import type { ServiceBuildSpec } from '../build-spec/types';

/**
 * Nx project names. A service keeps its own name unless two compose projects
 * define a service of that name; then every one of them is named
 * `<compose project>-<service>`. If even those names meet, it is an error.
 * Works on any record that carries a spec, so what travels with the spec stays with it.
 */
export function assignProjectNames<T extends { spec: ServiceBuildSpec }>(
  records: readonly T[],
): { named: T[]; errors: Array<{ record: T; error: ComposeError }> } {
  const byService = new Map<string, number>();
  for (const { spec } of records) byService.set(spec.service, (byService.get(spec.service) ?? 0) + 1);

  const named = records.map((record) => {
    const { spec } = record;
    const project = byService.get(spec.service)! > 1 ? `${spec.composeProject}-${spec.service}` : spec.service;
    return { ...record, spec: { ...spec, project } };
  });

  const byProject = new Map<string, T[]>();
  for (const record of named) byProject.set(record.spec.project, [...(byProject.get(record.spec.project) ?? []), record]);

  const errors: Array<{ record: T; error: ComposeError }> = [];
  const kept: T[] = [];
  for (const record of named) {
    const { spec } = record;
    const rivals = byProject.get(spec.project)!;
    if (rivals.length === 1) {
      kept.push(record);
      continue;
    }
    const at = (s: ServiceBuildSpec) => (s.definedAt?.line ? `${s.definedAt.file}:${s.definedAt.line}` : s.composeFiles[0]);
    const others = rivals.filter((r) => r !== record).map((r) => `${at(r.spec)} (compose project "${r.spec.composeProject}")`);
    const error = new ComposeError(
      `Nx project name "${spec.project}" is claimed by more than one compose service; also defined in ${others.join(', ')}. ` +
        'Give the compose projects different names (top-level "name:" or the plugin option composeFiles[].projectName).',
      { ...(spec.definedAt ?? { file: spec.composeFiles[0] ?? spec.composeDir }), service: spec.service },
    );
    errors.push({ record, error });
  }
  return { named: kept, errors };
}
