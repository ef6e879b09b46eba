/**
 * Build args whose name looks like a secret. The rule is Docker's own `SecretsUsedInArgOrEnv` build
 * check (moby/buildkit frontend/dockerfile/dockerfile2llb/validations.go, getSecretsRegex, at
 * 22aa6bc5ea1dd97ac8543b1ce1ef6b30d979a1fa): one `_`-separated word of the name, any case, is one
 * of the secret words, and none is one of the allowed words. `GITHUB_TOKEN`, `api_key`, `AUTH`
 * and `DB_PASSWORD_HASH` match; `PUBLIC_KEY`, `KEY_FILE`, `TOKEN_VERSION` and `MONKEY` do not.
 * A build arg stays in the image's history (`docker history`), in the build's provenance and in
 * Nx's task options: such a value belongs in `build.secrets`.
 */
import type { BuildOptions } from './types';

const SECRET_WORDS = ['apikey', 'auth', 'credential', 'credentials', 'key', 'password', 'pword', 'passwd', 'secret', 'token'];
const ALLOWED_WORDS = ['public', 'file', 'version'];
const word = (words: string[]) => new RegExp(`(?:_|^)(?:${words.join('|')})(?:_|$)`, 'i');
const SECRET = word(SECRET_WORDS);
const ALLOWED = word(ALLOWED_WORDS);

export function isSecretLikeName(name: string): boolean {
  return SECRET.test(name) && !ALLOWED.test(name);
}

/** The secret-like build arg names of a service, its per-platform args included; sorted, no values. */
export function secretLikeArgs(spec: Pick<BuildOptions, 'args'> & { platformArgs?: Record<string, Record<string, string>> }): string[] {
  const names = new Set(Object.keys(spec.args ?? {}));
  for (const args of Object.values(spec.platformArgs ?? {})) for (const name of Object.keys(args)) names.add(name);
  return [...names].filter(isSecretLikeName).sort();
}

/** The graph-time warning for one service, or undefined. It names the service and the args, never a value. */
export function secretLikeArgsWarning(service: string, file: string | undefined, names: string[]): string | undefined {
  if (!names.length) return undefined;
  const where = file ? ` (${file})` : '';
  return (
    `service "${service}"${where}: build arg${names.length > 1 ? 's' : ''} ${names.join(', ')} look${names.length > 1 ? '' : 's'} like a secret ` +
    "(Docker's SecretsUsedInArgOrEnv rule). A build arg stays in the image history and in Nx's task options; " +
    'pass it with build.secrets instead (compose `build: { secrets: [...] }`, read in the Dockerfile with `RUN --mount=type=secret,id=...`). ' +
    'Its value is masked in the commands the plugin prints.'
  );
}

export const MASK = '****';

/** argv for DISPLAY: the value of every secret-like `--build-arg NAME=value` replaced by ****. */
export function maskSecretArgs(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    if (argv[i - 1] !== '--build-arg') return arg;
    const eq = arg.indexOf('=');
    return eq > 0 && isSecretLikeName(arg.slice(0, eq)) ? `${arg.slice(0, eq + 1)}${MASK}` : arg;
  });
}
