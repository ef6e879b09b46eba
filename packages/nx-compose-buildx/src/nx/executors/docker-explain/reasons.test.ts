import { describe, expect, it } from 'vitest';
import { buildOptionsFrom } from '../../../build-spec/build-fields';
import type { ServiceBuildSpec } from '../../../build-spec/types';
import { dockerfileReads, withBaseTriggers } from '../../../graph';
import { describeReason, explainReasons, fieldReasons, fileReasons, instructionChanges, type ExplainSide, type Reason } from './reasons';

function spec(over: Partial<ServiceBuildSpec> = {}): ServiceBuildSpec {
  return {
    project: 'api',
    service: 'api',
    composeProject: 'shop',
    composeDir: '.',
    composeFiles: ['compose.yaml'],
    variables: [],
    ...buildOptionsFrom({
      context: 'api',
      dockerfile: 'api/Dockerfile',
      tags: ['127.0.0.1:5000/api:1'],
      platforms: ['linux/amd64'],
      ...over,
    }),
    ...(over.platformArgs ? { platformArgs: over.platformArgs } : {}),
  } as ServiceBuildSpec;
}

const DOCKERFILE = 'FROM scratch\nCOPY go.mod /\nCOPY src/ /src/\nRUN --mount=type=bind,source=pb true\n';

function side(
  s: ServiceBuildSpec,
  text = DOCKERFILE,
  ignorePatterns: string[] = [],
  locations: ExplainSide['locations'] = {},
): ExplainSide {
  return {
    spec: s,
    locations,
    reads: dockerfileReads(text, { platforms: s.platforms, namedContexts: Object.keys(s.additionalContexts) }),
    dockerfileText: text,
    ...(ignorePatterns.length ? { ignoreFile: 'api/.dockerignore' } : {}),
    ignorePatterns,
  };
}

describe('fileReasons', () => {
  const head = side(spec(), DOCKERFILE, ['src/*.log']);
  it.each<{ name: string; changed: string[]; sides?: ExplainSide[]; expected: Reason[] }>([
    {
      name: 'a source file, with the instruction and line that read it',
      changed: ['api/src/main.go'],
      expected: [{ kind: 'file', file: 'api/src/main.go', readBy: [{ file: 'api/Dockerfile', line: 3, instruction: 'COPY src/' }] }],
    },
    {
      name: 'a bind-mounted folder',
      changed: ['api/pb/a.proto'],
      expected: [
        {
          kind: 'file',
          file: 'api/pb/a.proto',
          readBy: [{ file: 'api/Dockerfile', line: 4, instruction: 'RUN --mount=type=bind,source=pb' }],
        },
      ],
    },
    { name: 'a file no instruction reads', changed: ['api/README.md'], expected: [] },
    { name: 'a file the ignore rules drop', changed: ['api/src/debug.log'], expected: [] },
    { name: 'a file outside the context', changed: ['web/src/main.go'], expected: [] },
    {
      name: 'the Dockerfile',
      changed: ['api/Dockerfile'],
      expected: [{ kind: 'file', file: 'api/Dockerfile', role: 'dockerfile', readBy: [] }],
    },
    {
      name: 'the ignore file',
      changed: ['api/.dockerignore'],
      expected: [{ kind: 'file', file: 'api/.dockerignore', role: 'ignore-file', readBy: [] }],
    },
    {
      name: 'COPY . . reads everything: that instruction',
      changed: ['api/x'],
      sides: [side(spec(), 'FROM scratch\nCOPY . .\n')],
      expected: [{ kind: 'file', file: 'api/x', readBy: [{ file: 'api/Dockerfile', line: 2, instruction: 'COPY .' }] }],
    },
    {
      name: 'a file only the base read (deleted since): the base Dockerfile names it',
      changed: ['api/old.txt'],
      sides: [head, side(spec(), 'FROM scratch\nCOPY old.txt /\n')],
      expected: [{ kind: 'file', file: 'api/old.txt', readBy: [{ file: 'api/Dockerfile', line: 2, instruction: 'COPY old.txt' }] }],
    },
    {
      name: 'a named context',
      changed: ['shared/lib/x.go'],
      sides: [side(spec({ additionalContexts: { lib: 'shared/lib' } }), 'FROM scratch\nCOPY --from=lib . /lib\n')],
      expected: [{ kind: 'file', file: 'shared/lib/x.go', readBy: [{ file: 'api/Dockerfile', line: 2, instruction: 'COPY .' }] }],
    },
    {
      name: "a named context's own .dockerignore: a file it drops is no reason, the file itself is",
      changed: ['shared/lib/x.tmp', 'shared/lib/x.go', 'shared/lib/.dockerignore'],
      sides: [
        {
          ...side(spec({ additionalContexts: { lib: 'shared/lib' } }), 'FROM scratch\nCOPY --from=lib . /lib\n'),
          namedIgnorePatterns: { lib: ['*.tmp'] },
        },
      ],
      expected: [
        { kind: 'file', file: 'shared/lib/x.go', readBy: [{ file: 'api/Dockerfile', line: 2, instruction: 'COPY .' }] },
        { kind: 'file', file: 'shared/lib/.dockerignore', role: 'ignore-file', readBy: [] },
      ],
    },
    {
      name: "a base stage's ONBUILD trigger: that trigger",
      changed: ['api/conf/x'],
      sides: [side(spec(), 'FROM scratch AS base\nONBUILD COPY conf/ /c\nFROM base\n')],
      expected: [
        {
          kind: 'file',
          file: 'api/conf/x',
          readBy: [{ file: 'api/Dockerfile', line: 2, instruction: 'ONBUILD COPY conf/ /c (run by FROM base, line 3)' }],
        },
      ],
    },
    {
      name: "a workspace base image's ONBUILD trigger: that image's Dockerfile and line",
      changed: ['api/conf/x'],
      sides: [
        {
          ...head,
          reads: withBaseTriggers(head.reads, [], ['base'], () => ({
            file: 'base/Dockerfile',
            line: 2,
            instruction: 'ONBUILD COPY conf/ /c',
          })),
        },
      ],
      expected: [
        { kind: 'file', file: 'api/conf/x', readBy: [{ file: 'base/Dockerfile', line: 2, instruction: 'ONBUILD COPY conf/ /c' }] },
      ],
    },
  ])('$name', ({ changed, sides, expected }) => {
    expect(fileReasons(changed, sides ?? [head])).toEqual(expected);
  });
});

describe('instructionChanges', () => {
  it.each<{ name: string; old: string; now: string; expected: ReturnType<typeof instructionChanges> }>([
    {
      name: 'the same instructions, other comments and spacing',
      old: 'FROM a\n# x\nRUN  true\n',
      now: 'FROM a\n\nRUN true\n',
      expected: [],
    },
    {
      name: 'one instruction changed: removed at its old line, added at its new one',
      old: 'FROM a\nARG V\nRUN echo 1\n',
      now: 'FROM a\nARG V\n\nRUN echo 2\n',
      expected: [
        { change: 'added', line: 4, instruction: 'RUN echo 2' },
        { change: 'removed', line: 3, instruction: 'RUN echo 1' },
      ],
    },
    {
      name: 'an instruction over continuation lines',
      old: 'FROM a\n',
      now: 'FROM a\nRUN a \\\n  && b\n',
      expected: [{ change: 'added', line: 2, instruction: 'RUN a && b' }],
    },
  ])('$name', ({ old, now, expected }) => {
    expect(instructionChanges(old, now)).toEqual(expected);
  });

  it('the Dockerfile reason names them', () => {
    const [reason] = fileReasons(['api/Dockerfile'], [side(spec(), 'FROM scratch\nCOPY b /\n'), side(spec(), 'FROM scratch\nCOPY a /\n')]);
    expect(describeReason(reason!)).toBe('file api/Dockerfile: the Dockerfile changed (+ line 2: COPY b /; - line 2: COPY a /)');
  });
});

describe('fieldReasons', () => {
  const locations = { 'build.args': { file: 'compose.yaml', line: 5 }, 'build.args.VERSION': { file: 'compose.override.yaml', line: 7 } };
  it.each<{ name: string; old: Partial<ServiceBuildSpec>; now: Partial<ServiceBuildSpec>; expected: Reason[] }>([
    { name: 'nothing changed', old: { args: { A: '1' } }, now: { args: { A: '1' } }, expected: [] },
    {
      name: 'one arg, with the file and line that set it',
      old: { args: { VERSION: '1.0', A: 'x' } },
      now: { args: { VERSION: '1.1', A: 'x' } },
      expected: [{ kind: 'field', field: 'build.args.VERSION', old: '"1.0"', new: '"1.1"', setIn: 'compose.override.yaml:7' }],
    },
    {
      name: 'a secret-like arg is masked',
      old: { args: { API_TOKEN: 'old-secret' } },
      now: { args: { API_TOKEN: 'new-secret' } },
      expected: [{ kind: 'field', field: 'build.args.API_TOKEN', old: '****', new: '****', masked: true, setIn: 'compose.yaml:5' }],
    },
    {
      name: 'an arg added',
      old: {},
      now: { args: { NEW: 'v' } },
      expected: [{ kind: 'field', field: 'build.args.NEW', new: '"v"', setIn: 'compose.yaml:5' }],
    },
    {
      name: 'target, by its compose name',
      old: {},
      now: { target: 'prod' },
      expected: [{ kind: 'field', field: 'build.target', new: '"prod"' }],
    },
    {
      name: 'a platform added and one removed',
      old: { platforms: ['linux/amd64', 'linux/arm/v7'] },
      now: { platforms: ['linux/amd64', 'linux/arm64'] },
      expected: [
        { kind: 'platform', platform: 'linux/arm64', change: 'added' },
        { kind: 'platform', platform: 'linux/arm/v7', change: 'removed' },
      ],
    },
    {
      name: 'the image name',
      old: { tags: ['r/api:1'] },
      now: { tags: ['r/api:2'] },
      expected: [{ kind: 'field', field: 'image', old: '"r/api:1"', new: '"r/api:2"' }],
    },
    {
      name: "one platform's arg, for that platform alone",
      old: { platforms: ['linux/amd64', 'linux/arm64'], platformArgs: { 'linux/arm64': { GOARM: '7' } } },
      now: { platforms: ['linux/amd64', 'linux/arm64'], platformArgs: { 'linux/arm64': { GOARM: '8' } } },
      expected: [
        { kind: 'field', field: 'x-nx-buildx.platformArgs.linux/arm64.GOARM', old: '"7"', new: '"8"', platforms: ['linux/arm64'] },
      ],
    },
  ])('$name', ({ old, now, expected }) => {
    expect(fieldReasons(spec(old), spec(now), locations)).toEqual(expected);
  });
});

describe('explainReasons', () => {
  const head = side(spec({ args: { V: '2' } }));
  const base = side(spec({ args: { V: '1' } }));
  const miss = { outcome: 'miss' as const, detail: 'no image with this key in 127.0.0.1:5000 (127.0.0.1:5000/api:nxcb-k)' };

  it('a new service', () => {
    expect(explainReasons({ head, changedFiles: [] })).toEqual([{ kind: 'service', change: 'added' }]);
  });

  it('a field, a dependency with reasons of its own, and the registry answer, in that order', () => {
    const reasons = explainReasons({
      head,
      base,
      changedFiles: [],
      dependencies: [
        { service: 'base', image: 'r/base:1', reasons: [{ kind: 'platform', platform: 'linux/arm64', change: 'added' }] },
        { service: 'quiet', image: 'r/quiet:1', reasons: [{ kind: 'registry', ...miss }] },
      ],
      registry: [miss],
    });
    expect(reasons.map(describeReason)).toEqual([
      'compose build.args.V: "1" → "2"',
      'base image r/base:1 (service base) changed: platform linux/arm64 added',
      'registry: no image with this key in 127.0.0.1:5000 (127.0.0.1:5000/api:nxcb-k)',
    ]);
  });

  it('a miss with nothing else says what else the key covers, never "inputs changed"', () => {
    const [reason] = explainReasons({ head: base, base, changedFiles: [], registry: [miss] });
    expect(describeReason(reason!)).toMatch(/^registry: no image with this key in 127\.0\.0\.1:5000 .*digests of the images it builds on/);
  });

  it('an external base whose tag moved since the pushed image was built is a base-image reason of its own', () => {
    const moved = {
      ...miss,
      platforms: ['linux/arm64'],
      builtImage: '127.0.0.1:5000/api:1',
      movedBases: [{ image: '127.0.0.1:5000/base:1', was: 'sha256:aaa', now: 'sha256:bbb' }],
    };
    const reasons = explainReasons({ head: base, base, changedFiles: [], registry: [moved] });
    expect(reasons.map(describeReason)).toEqual([
      '[linux/arm64] base image 127.0.0.1:5000/base:1 changed: its tag now points to sha256:bbb; 127.0.0.1:5000/api:1 was built on sha256:aaa',
      '[linux/arm64] registry: no image with this key in 127.0.0.1:5000 (127.0.0.1:5000/api:nxcb-k)',
    ]);
    expect(reasons[1]).not.toHaveProperty('movedBases');
  });

  it('an environment variable that changes a build field', () => {
    const reasons = explainReasons({ head, base: head, changedFiles: [], committed: base, environmentSet: ['V'] });
    expect(reasons).toEqual([{ kind: 'environment', variables: ['V'], fields: ['build.args.V'] }]);
    expect(describeReason(reasons[0]!)).toBe('environment V: changes build.args.V from what the committed files alone give');
  });

  it('never shows a masked value', () => {
    const text = explainReasons({
      head: side(spec({ args: { DB_PASSWORD: 's3cret-new' } })),
      base: side(spec({ args: { DB_PASSWORD: 's3cret-old' } })),
      changedFiles: [],
    })
      .map(describeReason)
      .join('\n');
    expect(text).toBe('compose build.args.DB_PASSWORD: **** → ****');
  });
});
