import { describe, expect, it } from 'vitest';
import { DockerfileSyntaxError, dockerfileImageRefs, dockerfileRefs, expandWord, parseDockerfileSafe } from './dockerfile-refs';

const refsCases: Array<{
  name: string;
  text: string;
  args?: Record<string, string>;
  target?: string;
  named?: string[];
  images: string[];
  stages?: string[];
}> = [
  {
    name: 'a ref naming a named context is no image (as written or in its familiar form)',
    text: 'FROM docker.io/library/alpine:latest\nCOPY --from=alpine /a /a\nCOPY --from=tools /t /t\n',
    named: ['alpine'],
    images: ['tools'],
  },
  {
    // BuildKit (checked on the stack): a replaced stage's FROM image is not resolved, its --from image is.
    name: 'a stage named after a named context: its FROM image is not resolved, its --from images are',
    text: 'FROM reg/gen AS gen\nCOPY --from=reg/tool /t /t\nFROM reg/base\nCOPY --from=gen /out /out\n',
    named: ['gen'],
    images: ['reg/tool', 'reg/base'],
    stages: ['gen'],
  },
  {
    name: 'the stage a replaced stage builds on is still resolved',
    text: 'FROM reg/dev AS dev\nFROM dev AS gen\nFROM scratch\nCOPY --from=gen /out /out\n',
    named: ['gen'],
    images: ['reg/dev'],
    stages: ['dev', 'gen'],
  },
  { name: 'one FROM', text: 'FROM node:20-alpine\nRUN echo hi\n', images: ['node:20-alpine'] },
  { name: 'ARG default before FROM', text: 'ARG BASE=alpine:3.19\nFROM ${BASE}\n', images: ['alpine:3.19'] },
  {
    name: 'build arg overrides the default',
    text: 'ARG BASE=alpine:3.19\nFROM $BASE\n',
    args: { BASE: 'alpine:3.20' },
    images: ['alpine:3.20'],
  },
  {
    name: 'several ARGs on one line, one using another',
    text: 'ARG REG=ghcr.io IMG=${REG}/acme/base\nFROM ${IMG}:1\n',
    images: ['ghcr.io/acme/base:1'],
  },
  {
    name: '${X:-default} with an ARG without value',
    text: 'ARG REG\nFROM ${REG:-docker.io}/library/nginx\n',
    images: ['docker.io/library/nginx'],
  },
  { name: '${X:+alt}', text: 'ARG SUFFIX=1\nFROM base${SUFFIX:+-v$SUFFIX}\n', images: ['base-v1'] },
  { name: 'undeclared variable is empty even with a build arg', text: 'FROM ${X}\n', args: { X: 'ignored' }, images: [] },
  {
    name: 'ARG after FROM does not reach FROM',
    text: 'FROM alpine AS a\nARG B=x\nFROM ${B:-busybox}\nCOPY --from=a /x /x\n',
    images: ['alpine', 'busybox'],
    stages: ['a'],
  },
  {
    name: 'automatic platform args when given',
    text: 'FROM tool-${TARGETARCH}:1\n',
    args: { TARGETARCH: 'arm64' },
    images: ['tool-arm64:1'],
  },
  {
    name: 'stages are not images; COPY --from stage, index and image',
    text: 'FROM golang:1.22 AS build\nFROM build AS test\nFROM alpine\nCOPY --from=build /a /b\nCOPY --from=0 /c /d\nCOPY --link --from=nginx:1.25 /e /f\n',
    images: ['golang:1.22', 'alpine', 'nginx:1.25'],
    stages: ['build', 'test'],
  },
  {
    name: 'AS and stage names are case-insensitive',
    text: 'fRoM node:20 aS Builder\nFROM BUILDER\nCOPY --from=bUiLdEr /a /b\n',
    images: ['node:20'],
    stages: ['builder'],
  },
  {
    name: '--platform=$BUILDPLATFORM flag',
    text: 'FROM --platform=$BUILDPLATFORM golang:1.22 AS b\nFROM --platform=linux/arm64 alpine\nCOPY --from=b /x /x\n',
    images: ['golang:1.22', 'alpine'],
    stages: ['b'],
  },
  { name: 'FROM scratch is not an image', text: 'FROM scratch\nCOPY --from=busybox:1 /bin/sh /sh\n', images: ['busybox:1'] },
  {
    name: 'RUN --mount from= for bind and cache, stage refs skipped, secret ignored',
    text: 'FROM alpine AS build\nFROM debian\nRUN --mount=type=cache,target=/c,from=cachebase \\\n    --mount=from=build,target=/b \\\n    --mount=type=bind,from=tools:1,target=/t \\\n    --mount=type=secret,id=x make\n',
    images: ['alpine', 'debian', 'cachebase', 'tools:1'],
    stages: ['build'],
  },
  {
    name: 'line continuations',
    text: 'FROM \\\n  alpine:3 \\\n  AS x\nCOPY \\\n  --from=busybox \\\n  /a /b\n',
    images: ['alpine:3', 'busybox'],
    stages: ['x'],
  },
  {
    name: 'escape directive',
    text: '# escape=`\nFROM alpine `\n  AS x\nCOPY --from=busybox /a /b\n',
    images: ['alpine', 'busybox'],
    stages: ['x'],
  },
  { name: 'syntax directive and comments', text: '# syntax=docker/dockerfile:1\n# FROM commented\nFROM alpine\n', images: ['alpine'] },
  {
    name: 'stage ARG redeclared reaches COPY --from',
    text: 'ARG V=1\nFROM alpine\nARG V\nCOPY --from=tool:${V} /a /b\n',
    images: ['alpine', 'tool:1'],
  },
  {
    name: 'stage ARG overridden by a build arg',
    text: 'FROM alpine\nARG V=1\nCOPY --from=tool:${V} /a /b\n',
    args: { V: '2' },
    images: ['alpine', 'tool:2'],
  },
  { name: 'an image named like its own stage', text: 'FROM alpine AS alpine\nFROM alpine\n', images: ['alpine'], stages: ['alpine'] },
  {
    name: 'COPY --from a later stage is a stage',
    text: 'FROM alpine AS main\nCOPY --from=later /a /b\nFROM busybox AS later\n',
    target: 'main',
    images: ['alpine', 'busybox'],
    stages: ['main', 'later'],
  },
  { name: 'quoted image', text: 'FROM "alpine:3"\n', images: ['alpine:3'] },
  { name: 'heredoc bodies are not instructions', text: 'FROM alpine\nRUN <<EOF\nFROM notreal\nEOF\n', images: ['alpine'] },
  {
    name: 'duplicates once, first-seen order',
    text: 'FROM b AS one\nFROM a\nCOPY --from=one /x /x\nFROM b\nCOPY --from=1 /y /y\n',
    images: ['b', 'a'],
    stages: ['one'],
  },
  // BuildKit resolves no image of a stage the build does not reach (checked on the real stack:
  // an unreached `FROM <missing image>` builds; the same stage reached by COPY --from fails).
  {
    name: 'an unreached stage uses no image',
    text: 'FROM node:20 AS dev\nFROM gcr.io/distroless/nodejs20\n',
    images: ['gcr.io/distroless/nodejs20'],
    stages: ['dev'],
  },
  {
    name: 'target picks the stage built',
    text: 'FROM node:20 AS dev\nFROM gcr.io/distroless/nodejs20\n',
    target: 'DEV',
    images: ['node:20'],
    stages: ['dev'],
  },
  {
    name: 'target reaches through FROM, COPY --from and RUN --mount from=',
    text: 'FROM base:1 AS a\nFROM a AS b\nCOPY --from=tool:1 /t /t\nFROM other:1 AS c\nFROM d:1 AS d\nRUN --mount=from=c,target=/c true\nFROM unused:1 AS e\nFROM scratch AS out\nCOPY --from=b /x /x\nCOPY --from=3 /y /y\n',
    target: 'out',
    images: ['base:1', 'tool:1', 'other:1', 'd:1'],
    stages: ['a', 'b', 'c', 'd', 'e', 'out'],
  },
  {
    name: 'a target that is no stage: every image (the build fails in BuildKit)',
    text: 'FROM a:1 AS x\nFROM b:1\n',
    target: 'nope',
    images: ['a:1', 'b:1'],
    stages: ['x'],
  },
  {
    name: 'a reached --from without a known value: every image',
    text: 'FROM a:1 AS x\nFROM b:1\nCOPY --from=${NOPE} /x /y\n',
    images: ['a:1', 'b:1'],
    stages: ['x'],
  },
  {
    name: 'an unreached --from without a known value changes nothing',
    text: 'FROM a:1 AS x\nCOPY --from=${NOPE} /x /y\nFROM b:1\n',
    images: ['b:1'],
    stages: ['x'],
  },
  { name: 'digest refs as written', text: 'FROM alpine@sha256:abc\n', images: ['alpine@sha256:abc'] },
];

describe('dockerfileRefs', () => {
  it.each(refsCases)('$name', ({ text, args, target, named, images, stages }) => {
    expect(dockerfileRefs(text, args, target, named)).toEqual({ images, stages: stages ?? [] });
  });
});

describe('parseDockerfileSafe', () => {
  it.each<[string, string, string, number]>([
    ['unknown instruction', 'garbage here\n{{{', 'unknown instruction: garbage', 1],
    ['unknown instruction later', '# syntax=docker/dockerfile:1\n\nFROM alpine\nFOO bar\n', 'unknown instruction: FOO', 4],
    ['RUN before FROM', 'RUN x\nFROM a\n', 'RUN before the first FROM', 1],
    ['empty file', '', 'no FROM instruction', 1],
    ['only ARG', 'ARG X=1\n', 'no FROM instruction', 1],
    ['FROM without image', 'FROM\n', 'FROM requires an image', 1],
    ['FROM with two words', 'FROM alpine\nFROM a b\n', 'FROM requires either one argument', 2],
    ['FROM with a bad AS', 'FROM a ass b\n', 'FROM requires either one argument', 1],
  ])('%s', (_n, text, message, line) => {
    const r = parseDockerfileSafe(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toContain(message);
      expect(r.error.line).toBe(line);
    }
  });

  it('accepts a valid Dockerfile', () => {
    expect(parseDockerfileSafe('ARG A\nFROM alpine AS x\nRUN true\n').ok).toBe(true);
  });

  it('dockerfileRefs throws a DockerfileSyntaxError with the line', () => {
    expect(() => dockerfileRefs('FROM a\nBOGUS x\n')).toThrowError(DockerfileSyntaxError);
    expect(() => dockerfileRefs('FROM a\nBOGUS x\n')).toThrowError('Dockerfile line 2: unknown instruction: BOGUS');
  });
});

describe('expandWord', () => {
  const vars: Record<string, string> = { A: 'a', E: '' };
  const lookup = (n: string) => vars[n];
  it.each<[string, string]>([
    ['$A', 'a'],
    ['${A}x', 'ax'],
    ['$Ax', ''],
    ['${U:-d}', 'd'],
    ['${E:-d}', 'd'],
    ['${E-d}', ''],
    ['${U-d}', 'd'],
    ['${A:+y}', 'y'],
    ['${E:+y}', ''],
    ['${E+y}', 'y'],
    ['${U:-${A}b}', 'ab'],
    ['\\$A', '$A'],
    ["'$A'", '$A'],
    ['"$A"', 'a'],
    ['x$', 'x$'],
  ])('%s -> %s', (word, expected) => {
    expect(expandWord(word, lookup)).toBe(expected);
  });
});

describe('dockerfileImageRefs', () => {
  it.each<[string, string | undefined, string[]]>([
    ['no Dockerfile text', undefined, []],
    ['garbage', 'nonsense\n', []],
    ['images only', 'FROM a AS s\nFROM s\nCOPY --from=b /x /y\n', ['a', 'b']],
    ['of the stages built only', 'FROM a AS s\nFROM c\nCOPY --from=b /x /y\n', ['c', 'b']],
  ])('%s', (_n, text, expected) => {
    expect(dockerfileImageRefs(text)).toEqual(expected);
  });
});
