import { describe, expect, test } from 'vitest';
import { isSecretLikeName, maskSecretArgs, secretLikeArgs, secretLikeArgsWarning } from './secret-args';

describe("secret-like names (Docker's SecretsUsedInArgOrEnv rule)", () => {
  test.each([
    // the rule's own examples and each secret word, first, last or middle word, any case
    'api_key',
    'DATABASE_PASSWORD',
    'GITHUB_TOKEN',
    'secret_MESSAGE',
    'AUTH',
    'AWS_SECRET_ACCESS_KEY',
    'APIKEY',
    'GCP_CREDENTIAL',
    'CREDENTIALS',
    'KEY',
    'PWORD',
    'DB_PASSWD',
    'NPM_TOKEN_X',
    'Token',
  ])('%s looks like a secret', (name) => expect(isSecretLikeName(name)).toBe(true));

  test.each([
    // allowed words win; a secret word inside another word is not a word of the name
    'PUBLIC_KEY',
    'KEY_FILE',
    'TOKEN_VERSION',
    'MONKEY',
    'AUTHOR',
    'TOKENS',
    'PASSWORDLESS',
    'KEYBOARD_LAYOUT',
    'NODE_VERSION',
    'SOURCE_DATE_EPOCH',
    'API-KEY', // `-` does not separate words in the rule
  ])('%s does not', (name) => expect(isSecretLikeName(name)).toBe(false));
});

describe('secretLikeArgs', () => {
  test('service and per-platform args, names only, sorted', () => {
    expect(secretLikeArgs({ args: { NPM_TOKEN: 'v', A: '1' }, platformArgs: { 'linux/arm64': { DB_PASSWORD: 'p', B: '2' } } })).toEqual([
      'DB_PASSWORD',
      'NPM_TOKEN',
    ]);
    expect(secretLikeArgs({ args: { A: '1' } })).toEqual([]);
  });

  test('the warning names the service, the file, the args and build.secrets, never the value', () => {
    const w = secretLikeArgsWarning('api', 'apps/compose.yaml', secretLikeArgs({ args: { NPM_TOKEN: 'hunter2-value' } }))!;
    expect(w).toMatch(/^service "api" \(apps\/compose\.yaml\): build arg NPM_TOKEN looks like a secret/);
    expect(w).toContain('build.secrets');
    expect(w).not.toContain('hunter2');
    expect(secretLikeArgsWarning('api', undefined, [])).toBeUndefined();
  });
});

describe('maskSecretArgs', () => {
  test('masks the value of secret-like build args only, and only after --build-arg', () => {
    const argv = [
      'docker',
      'buildx',
      'build',
      '--build-arg',
      'NPM_TOKEN=hunter2',
      '--build-arg',
      'A=1',
      '--build-arg',
      'DB_PASSWORD=a=b',
      '--label',
      'TOKEN=x',
      'ctx',
    ];
    expect(maskSecretArgs(argv)).toEqual([
      'docker',
      'buildx',
      'build',
      '--build-arg',
      'NPM_TOKEN=****',
      '--build-arg',
      'A=1',
      '--build-arg',
      'DB_PASSWORD=****',
      '--label',
      'TOKEN=x',
      'ctx',
    ]);
    expect(argv[4]).toBe('NPM_TOKEN=hunter2'); // the argv that runs is unchanged
  });
});
