/** Compose file discovery in one folder (compose-go `cli/options.go`). Pure: works on a list of file names. */

/** Base candidates, in priority order: the first present wins. */
export const DEFAULT_COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'] as const;
/** Override candidates, in priority order, independent of which base was found (checked against Compose 2.26). */
export const DEFAULT_OVERRIDE_FILE_NAMES = [
  'compose.override.yml',
  'compose.override.yaml',
  'docker-compose.override.yml',
  'docker-compose.override.yaml',
] as const;

/** The files Compose would load from a folder holding `fileNames`: [base] or [base, override]; [] if no base. */
export function discoverComposeFiles(fileNames: Iterable<string>): string[] {
  const present = new Set(fileNames);
  const base = DEFAULT_COMPOSE_FILE_NAMES.find((f) => present.has(f));
  if (!base) return [];
  const override = DEFAULT_OVERRIDE_FILE_NAMES.find((f) => present.has(f));
  return override ? [base, override] : [base];
}
