import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, type TempWorkspace } from '../support/workspace';

const dockerfile = 'FROM scratch\nCOPY . /x\n';

/** One folder per kind of broken input, next to one healthy compose project. */
const FILES: Record<string, string> = {
  // platforms belong under build: (Compose rejects them at service level, and so does the plugin).
  'good/compose.yaml': 'services:\n  ok:\n    build:\n      context: ./ok\n      platforms: [linux/amd64]\n    image: reg.local/ok\n',
  'good/ok/Dockerfile': dockerfile,
  'syntax/compose.yaml': 'services:\n  s:\n    build: ./s\n    image: [unclosed\n',
  'required/compose.yaml': 'services:\n  needs-x:\n    build: ./r\n    image: reg.local/r:${X_REQUIRED:?set X_REQUIRED to the release}\n',
  'required/r/Dockerfile': dockerfile,
  'invalid/compose.yaml': [
    'services:',
    '  unknown-key:',
    '    build:',
    '      context: ./a',
    '      dockerfil: Dockerfile',
    '  bad-platform:',
    '    build:',
    '      context: ./a',
    '      platforms: [linux/amd64, linux/arm65]',
    '  no-context:',
    '    build: ./missing',
    '  no-dockerfile:',
    '    build:',
    '      context: ./a',
    '      dockerfile: Nope.Dockerfile',
    '  fine:',
    '    build: ./a',
    '    image: reg.local/fine',
    '',
  ].join('\n'),
  'invalid/a/Dockerfile': dockerfile,
  'cycle/compose.yaml': 'services:\n  p:\n    image: reg.local/p\n    build: ./p\n  q:\n    image: reg.local/q\n    build: ./q\n',
  'cycle/p/Dockerfile': 'FROM reg.local/q\n',
  'cycle/q/Dockerfile': 'FROM reg.local/p\n',
  'one/compose.yaml': 'name: same\nservices:\n  dup:\n    build: ./d\n',
  'one/d/Dockerfile': dockerfile,
  'two/compose.yaml': 'name: same\nservices:\n  dup:\n    build: ./d\n',
  'two/d/Dockerfile': dockerfile,
  // x-nx-buildx where it has no effect: a warning (Compose accepts any x- key), and the service still loads.
  'ext/compose.yaml': [
    'services:',
    '  ext-under-build:',
    '    build:',
    '      context: ./e',
    '      x-nx-buildx:',
    '        verify: [uname, -m]',
    '  ext-misspelt:',
    '    build: ./e',
    '    x-nx-buildx:',
    '      platformArg: {}',
    '',
  ].join('\n'),
  'ext/e/Dockerfile': dockerfile,
  'meta/compose.yaml': [
    'services:',
    '  shell-data:',
    '    build:',
    '      context: ./m',
    '      args:',
    "        EVIL: '$$(touch /tmp/nxcb-pwned); echo `id` && rm -rf / | cat'",
    '      labels:',
    '        "org.example.note": "a;b|c&d>e"',
    '',
  ].join('\n'),
  'meta/m/Dockerfile': dockerfile,
};

describe('bad compose input gives clear errors and never takes down the graph', () => {
  let ws: TempWorkspace;
  let projects: Record<string, { description: string; targets: Record<string, { executor?: string; options?: Record<string, unknown> }> }>;
  let graphStderr: string;

  beforeAll(async () => {
    ws = await createWorkspace({ files: FILES });
    const shown = await ws.nx(['show', 'projects', '--json']);
    graphStderr = shown.stderr;
    const names: string[] = JSON.parse(shown.stdout);
    projects = {};
    for (const name of names) {
      const p = JSON.parse((await ws.nx(['show', 'project', name, '--json'])).stdout);
      projects[name] = { description: p.metadata?.description ?? '', targets: p.targets };
    }
  });
  afterAll(() => ws?.dispose());

  it('healthy services in every folder still load', () => {
    expect(Object.keys(projects)).toEqual(expect.arrayContaining(['ok', 'fine', 'shell-data']));
    expect(projects.ok.targets['docker-build'].executor).toBe('nx-compose-buildx:docker-build');
  });

  it.each([
    {
      name: 'YAML syntax error',
      project: 'syntax-compose-error',
      message: /^Compose configuration error: syntax\/compose\.yaml:\d+(:\d+)?.*/,
    },
    {
      name: 'unset ${X:?msg}',
      project: 'required-compose-error',
      message: /required\/compose\.yaml:4(:\d+)? \(service "needs-x"\).*set X_REQUIRED to the release/,
    },
    {
      name: 'unknown key under build',
      project: 'unknown-key',
      message:
        /invalid\/compose\.yaml:5(:\d+)? \(service "unknown-key"\): services\.unknown-key\.build Additional property dockerfil is not allowed/,
    },
    {
      name: 'invalid platform',
      project: 'bad-platform',
      message: /invalid\/compose\.yaml:\d+(:\d+)? \(service "bad-platform"\): invalid platform "linux\/arm65"/,
    },
    {
      name: 'missing context',
      project: 'no-context',
      message: /invalid\/compose\.yaml:\d+(:\d+)? \(service "no-context"\): build context invalid\/missing does not exist/,
    },
    {
      name: 'missing Dockerfile',
      project: 'no-dockerfile',
      message: /invalid\/compose\.yaml:\d+(:\d+)? \(service "no-dockerfile"\): Dockerfile invalid\/a\/Nope\.Dockerfile does not exist/,
    },
    { name: 'dependency cycle', project: 'p', message: /^cycle\/compose\.yaml:2 \(service "p"\): image dependency cycle: p -> q -> p$/ },
    {
      name: 'two folders fighting over one name (first)',
      project: 'one-dup',
      message: /^one\/compose\.yaml:3 \(service "dup"\): .*claimed by more than one compose service.*two\/compose\.yaml:3 /,
    },
    {
      name: 'two folders fighting over one name (second)',
      project: 'two-dup',
      message: /^two\/compose\.yaml:3 \(service "dup"\): .*claimed by more than one compose service.*one\/compose\.yaml:3 /,
    },
  ])('$name: a failing project that names file, line and service', async ({ project, message }) => {
    const entry = Object.entries(projects).find(([name]) => name === project);
    expect(entry, `no project for ${project} in ${Object.keys(projects).join(', ')}`).toBeDefined();
    const [name, config] = entry!;
    expect(config.targets['docker-build'].executor).toBe('nx-compose-buildx:config-error');
    expect(String(config.targets['docker-build'].options?.message)).toMatch(
      message.source.startsWith('^Compose') ? /syntax\/compose\.yaml:\d+/ : message,
    );
    if (message.source.startsWith('^Compose')) expect(config.description).toMatch(message);
    const run = await ws.nx(['run', `${name}:docker-build`], { allowFailure: true });
    expect(run.status).not.toBe(0);
    const output = `${run.stdout}${run.stderr}`;
    expect(output).toContain(String(config.targets['docker-build'].options?.message));
    expect(output).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
  });

  it.each([
    {
      project: 'ext-under-build',
      warning:
        'ext/compose.yaml:5 (service "ext-under-build"): build.x-nx-buildx has no effect: x-nx-buildx is read at service level, beside build: (services.ext-under-build.x-nx-buildx); move it up one level',
    },
    {
      project: 'ext-misspelt',
      warning:
        'ext/compose.yaml:10 (service "ext-misspelt"): unknown key "platformArg" under x-nx-buildx has no effect; did you mean "platformArgs"?',
    },
  ])(
    'x-nx-buildx with no effect ($project): a graph-time warning naming the right place or key; the service still loads',
    ({ project, warning }) => {
      expect(graphStderr).toContain(`nx-compose-buildx: ${warning}`);
      expect(projects[project]?.targets['docker-build'].executor).toBe('nx-compose-buildx:docker-build');
    },
  );

  it('shell metacharacters in args and labels are data', () => {
    const options = projects['shell-data'].targets['docker-build'].options!;
    expect(options.args).toEqual({ EVIL: '$(touch /tmp/nxcb-pwned); echo `id` && rm -rf / | cat' });
    expect(options.labels).toEqual({ 'org.example.note': 'a;b|c&d>e' });
  });
});
