import { describe, expect, it } from 'vitest';
import { dockerfileReads, sourcePattern, type DockerfileReadsOptions } from './dockerfile-reads';

type Expect = string[] | 'whole';
const cases: Array<{ name: string; text: string; opts?: DockerfileReadsOptions; context: Expect; named?: Record<string, Expect> }> = [
  // COPY / ADD sources
  { name: 'one file', text: 'FROM scratch\nCOPY main.sh /app/\n', context: ['main.sh'] },
  { name: 'a folder', text: 'FROM scratch\nCOPY src/api/ /app/\n', context: ['src/api'] },
  { name: 'several sources on one line', text: 'FROM scratch\nCOPY a.txt b/ c/d.txt /dst/\n', context: ['a.txt', 'b', 'c/d.txt'] },
  { name: 'a leading / is the context root', text: 'FROM scratch\nCOPY /pb/api.proto /x\n', context: ['pb/api.proto'] },
  { name: '.. cannot leave the context', text: 'FROM scratch\nCOPY ../../etc/x ./y/../z /d\n', context: ['etc/x', 'z'] },
  { name: 'wildcards stay patterns', text: 'FROM scratch\nCOPY *.json src/[a-c]?.go /d/\n', context: ['*.json', 'src/[a-c]?.go'] },
  { name: '** cuts the pattern before it', text: 'FROM scratch\nCOPY web/**/*.js /d/\n', context: ['web'] },
  { name: 'COPY . . reads the whole context', text: 'FROM scratch\nCOPY . .\n', context: 'whole' },
  { name: 'COPY / reads the whole context', text: 'FROM scratch\nCOPY / /app\n', context: 'whole' },
  { name: 'COPY ./ reads the whole context', text: 'FROM scratch\nCOPY ./ /app\n', context: 'whole' },
  { name: '** first reads the whole context', text: 'FROM scratch\nCOPY **/*.go /d/\n', context: 'whole' },
  { name: 'line continuations', text: 'FROM scratch\nCOPY --chown=1:1 \\\n  a.txt \\\n  b.txt \\\n  /dst/\n', context: ['a.txt', 'b.txt'] },
  { name: 'JSON form, a space inside a name', text: 'FROM scratch\nCOPY ["my file.txt", "b", "/dst/"]\n', context: ['b', 'my file.txt'] },
  { name: 'JSON form over continuation lines', text: 'FROM scratch\nCOPY ["a", \\\n  "b", "/dst/"]\n', context: ['a', 'b'] },
  { name: 'a heredoc reads nothing', text: 'FROM scratch\nCOPY <<EOF /f\nhello\nEOF\n', context: [] },
  { name: 'a heredoc and a file', text: 'FROM scratch\nCOPY <<EOF a.txt /g/\nx\nEOF\n', context: ['a.txt'] },
  { name: 'two heredocs', text: 'FROM scratch\nCOPY <<-"EOT" <<X /h/\nEOT\nX\n', context: [] },
  {
    name: 'heredoc body lines are not sources',
    text: 'FROM scratch\nCOPY <<EOF /f\nsecret.txt /x\nEOF\nCOPY real.txt /r\n',
    context: ['real.txt'],
  },
  {
    name: 'ADD a URL reads nothing, ADD a file reads it',
    text: 'FROM scratch\nADD https://example.invalid/x.tgz /x\nADD git@example.invalid:a/b.git /b\nADD vendor.tar.gz /v\n',
    context: ['vendor.tar.gz'],
  },
  { name: '--parents reads the same paths', text: 'FROM scratch\nCOPY --parents ./a/./b/c.txt x/ /dst/\n', context: ['a/b/c.txt', 'x'] },
  { name: '--exclude is not applied (over-selects)', text: 'FROM scratch\nCOPY --exclude=*.md docs/ /d/\n', context: ['docs'] },
  { name: 'a literal folder covers paths below it', text: 'FROM scratch\nCOPY pb/ /pb/\nCOPY pb/api.proto /x\n', context: ['pb'] },
  { name: 'an escape character cuts the pattern', text: 'FROM scratch\nCOPY dir/arr\\[x\\].txt /d\n', context: ['dir'] },
  { name: 'escape directive', text: '# escape=`\nFROM scratch\nCOPY a.txt `\n  b.txt /d/\n', context: ['a.txt', 'b.txt'] },
  // variables
  { name: 'ARG default', text: 'FROM scratch\nARG DIR=src/api\nCOPY ${DIR} /app\n', context: ['src/api'] },
  {
    name: 'build arg overrides the default',
    text: 'FROM scratch\nARG DIR=src/api\nCOPY $DIR/ /app\n',
    opts: { args: { DIR: 'src/web' } },
    context: ['src/web'],
  },
  {
    name: 'ARG before FROM reaches a stage only when redeclared',
    text: 'ARG SVC=api\nFROM scratch\nARG SVC\nCOPY src/${SVC} /app\n',
    context: ['src/api'],
  },
  {
    name: 'ARG before FROM not redeclared: unknown over an image',
    text: 'ARG SVC=api\nFROM busybox\nCOPY src/${SVC} /app\n',
    context: 'whole',
  },
  {
    name: 'ARG before FROM not redeclared over scratch: empty',
    text: 'ARG SVC=api\nFROM scratch\nCOPY src/${SVC}x /app\n',
    context: ['src/x'],
  },
  { name: 'ARG without value over an image: whole', text: 'FROM busybox\nARG DIR\nCOPY ${DIR}/x /app\n', context: 'whole' },
  {
    name: 'ARG without value, given as build arg',
    text: 'FROM busybox\nARG DIR\nCOPY ${DIR}/x /app\n',
    opts: { args: { DIR: 'svc' } },
    context: ['svc/x'],
  },
  { name: 'ENV in the stage', text: 'FROM busybox\nENV APP=src/app\nCOPY $APP /app\n', context: ['src/app'] },
  {
    name: 'ENV beats ARG of the same name',
    text: 'FROM busybox\nENV D=env\nARG D=arg\nCOPY $D /x\n',
    opts: { args: { D: 'cli' } },
    context: ['env'],
  },
  {
    name: 'ENV inherited from a base stage, ARG not',
    text: 'FROM busybox AS base\nENV E=e\nARG A=a\nFROM base\nCOPY $E /x\nCOPY ${A:-b} /y\n',
    context: 'whole',
  },
  { name: 'ENV inherited from a base stage', text: 'FROM busybox AS base\nENV E=e\nFROM base\nCOPY $E /x\n', context: ['e'] },
  { name: 'an image ENV could set a variable: whole', text: 'FROM node:20\nCOPY ${NODE_APP:-app} /x\n', context: 'whole' },
  {
    name: 'TARGETARCH per platform, united',
    text: 'FROM scratch\nARG TARGETARCH\nCOPY bin/${TARGETARCH}/ /bin/\n',
    opts: { platforms: ['linux/amd64', 'linux/arm64'] },
    context: ['bin/amd64', 'bin/arm64'],
  },
  {
    name: 'TARGETVARIANT of arm defaults to v7',
    text: 'FROM scratch\nARG TARGETARCH TARGETVARIANT\nCOPY bin/${TARGETARCH}${TARGETVARIANT} /b\n',
    opts: { platforms: ['linux/arm'] },
    context: ['bin/armv7'],
  },
  {
    name: 'TARGETARCH without platforms is unknown',
    text: 'FROM scratch\nARG TARGETARCH\nCOPY bin/${TARGETARCH} /bin/\n',
    context: 'whole',
  },
  {
    name: 'BUILDARCH is never known',
    text: 'FROM scratch\nARG BUILDARCH\nCOPY bin/${BUILDARCH} /bin/\n',
    opts: { platforms: ['linux/amd64'] },
    context: 'whole',
  },
  {
    name: 'per-platform args',
    text: 'FROM scratch\nARG CONF=default\nCOPY conf/${CONF}.ini /c\n',
    opts: { platforms: ['linux/amd64', 'linux/arm64'], platformArgs: { 'linux/arm64': { CONF: 'arm' } } },
    context: ['conf/arm.ini', 'conf/default.ini'],
  },
  { name: 'several ARGs on one line without values', text: 'FROM scratch\nARG A B\nCOPY x${A}${B} /d\n', context: ['x'] },
  { name: 'a quoted ARG value with a space', text: 'FROM scratch\nARG F="a b.txt"\nCOPY ["$F", "/d"]\n', context: ['a b.txt'] },
  { name: 'a value using a name set on the same line: unknown', text: 'FROM busybox\nENV A=x B=$A\nCOPY $B /d\n', context: 'whole' },
  // RUN --mount
  {
    name: 'bind mount with a source',
    text: 'FROM busybox\nRUN --mount=type=bind,source=go.sum,target=/go.sum true\n',
    context: ['go.sum'],
  },
  { name: 'bind mount without source: whole context', text: 'FROM busybox\nRUN --mount=type=bind,target=/src true\n', context: 'whole' },
  { name: 'mount without type is a bind; src= alias', text: 'FROM busybox\nRUN --mount=src=pkg,target=/p true\n', context: ['pkg'] },
  {
    name: 'cache, secret, tmpfs mounts read nothing',
    text: 'FROM busybox\nRUN --mount=type=cache,target=/c --mount=type=secret,id=x --mount=type=tmpfs,target=/t true\n',
    context: [],
  },
  {
    name: 'bind mount from a stage reads no context',
    text: 'FROM busybox AS b\nFROM busybox\nRUN --mount=from=b,source=/x,target=/y true\n',
    context: [],
  },
  // stages and targets
  {
    name: 'without target only the last stage and what it reaches',
    text: 'FROM busybox AS build\nCOPY src/ /src/\nFROM busybox AS test\nCOPY test/ /t/\nFROM scratch\nCOPY --from=build /src /app\n',
    context: ['src'],
  },
  {
    name: 'target: a stage the target never reaches is not an input',
    text: 'FROM busybox AS dev\nCOPY dev/ /d/\nFROM busybox AS prod\nCOPY prod/ /p/\nFROM scratch AS extra\nCOPY . .\n',
    opts: { target: 'prod' },
    context: ['prod'],
  },
  {
    name: 'target is case-insensitive',
    text: 'FROM busybox AS Prod\nCOPY prod/ /p/\nFROM scratch\nCOPY . .\n',
    opts: { target: 'PROD' },
    context: ['prod'],
  },
  {
    name: 'FROM <stage> reaches it',
    text: 'FROM busybox AS base\nCOPY base.txt /\nFROM base AS final\nCOPY final.txt /\n',
    context: ['base.txt', 'final.txt'],
  },
  {
    name: 'COPY --from=<index> reaches it',
    text: 'FROM busybox\nCOPY zero.txt /\nFROM busybox\nCOPY one.txt /\nFROM scratch\nCOPY --from=0 /zero.txt /\n',
    context: ['zero.txt'],
  },
  {
    name: 'RUN --mount from=<stage> reaches it',
    text: 'FROM busybox AS tools\nCOPY tools/ /t/\nFROM busybox\nRUN --mount=from=tools,target=/t true\n',
    context: ['tools'],
  },
  {
    name: 'COPY --from a stage by an ARG',
    text: 'FROM busybox AS a\nCOPY a/ /a/\nFROM busybox AS b\nCOPY b/ /b/\nFROM scratch\nARG FROM_STAGE=a\nCOPY --from=${FROM_STAGE} / /\n',
    context: ['a'],
  },
  {
    name: 'FROM a stage picked by TARGETARCH',
    text: 'FROM busybox AS base-amd64\nCOPY amd/ /\nFROM busybox AS base-arm64\nCOPY arm/ /\nFROM busybox AS base-s390x\nCOPY s390/ /\nFROM base-${TARGETARCH}\n',
    opts: { platforms: ['linux/amd64', 'linux/arm64'] },
    context: ['amd', 'arm'],
  },
  { name: 'an unknown --from: whole', text: 'FROM busybox AS a\nFROM busybox\nCOPY --from=${X} / /\n', context: 'whole' },
  { name: 'an unknown target: whole', text: 'FROM busybox AS a\nCOPY a /a\n', opts: { target: 'nope' }, context: 'whole' },
  { name: 'COPY --from an image reads no context', text: 'FROM scratch\nCOPY --from=busybox:1 /bin/sh /sh\n', context: [] },
  // named contexts
  {
    name: 'COPY --from=<named context> reads that context',
    text: 'FROM scratch\nCOPY --from=shared lib/ /lib/\nCOPY --from=proto . /proto/\nCOPY own.txt /\n',
    opts: { namedContexts: ['shared', 'proto', 'unused'] },
    context: ['own.txt'],
    named: { shared: ['lib'], proto: 'whole' },
  },
  {
    name: 'FROM <named context> reads it whole',
    text: 'FROM base\nCOPY x /x\n',
    opts: { namedContexts: ['base'] },
    context: ['x'],
    named: { base: 'whole' },
  },
  {
    name: 'a named context found by its normalised name',
    text: 'FROM scratch\nCOPY --from=docker.io/library/alpine:latest /etc /etc\n',
    opts: { namedContexts: ['alpine'] },
    context: [],
    named: { alpine: ['etc'] },
  },
  // A named context replaces the stage of its name: none of the stage's instructions run (BuildKit's dockerfile2llb).
  {
    name: 'a named context replaces the stage of its name: COPY --from reads the context',
    text: 'FROM busybox AS shared\nCOPY secret /s\nFROM scratch\nCOPY --from=shared /x /x\n',
    opts: { namedContexts: ['shared'] },
    context: [],
    named: { shared: ['x'] },
  },
  {
    name: 'a replaced stage named by its index',
    text: 'FROM busybox AS shared\nFROM scratch\nCOPY --from=0 /x /x\n',
    opts: { namedContexts: ['shared'] },
    context: [],
    named: { shared: ['x'] },
  },
  {
    name: 'FROM a replaced stage reads the named context whole',
    text: 'FROM scratch AS base\nCOPY a /a\nFROM base\nCOPY b /b\n',
    opts: { namedContexts: ['base'] },
    context: ['b'],
    named: { base: 'whole' },
  },
  {
    name: 'RUN --mount from a replaced stage',
    text: 'FROM busybox AS cfg\nFROM busybox\nRUN --mount=from=cfg,source=conf,target=/c true\n',
    opts: { namedContexts: ['cfg'] },
    context: [],
    named: { cfg: ['conf'] },
  },
  {
    name: 'a replaced stage as the target',
    text: 'FROM scratch AS gen\nCOPY a /a\nFROM scratch\nCOPY b /b\n',
    opts: { namedContexts: ['gen'], target: 'gen' },
    context: [],
    named: { gen: 'whole' },
  },
  {
    name: "a replaced stage's ENV is not inherited: unknown",
    text: 'FROM scratch AS base\nENV DIR=src\nFROM base\nCOPY ${DIR}/x /x\n',
    opts: { namedContexts: ['base'] },
    context: 'whole',
    named: { base: 'whole' },
  },
  {
    name: 'RUN --mount from=<named context>',
    text: 'FROM busybox\nRUN --mount=from=cfg,source=conf,target=/c true\n',
    opts: { namedContexts: ['cfg'] },
    context: [],
    named: { cfg: ['conf'] },
  },
  // ONBUILD
  {
    name: "a base stage's reading ONBUILD runs in the stage built on it: whole",
    text: 'FROM busybox AS base\nONBUILD COPY a.txt /a\nFROM base\nCOPY b /b\n',
    opts: { namedContexts: ['cfg'] },
    context: 'whole',
    named: { cfg: 'whole' },
  },
  {
    name: 'an ONBUILD of a stage only copied from runs nowhere',
    text: 'FROM busybox AS base\nONBUILD COPY a.txt /a\nFROM scratch\nCOPY --from=base /bin /bin\nCOPY b /b\n',
    context: ['b'],
  },
  {
    name: 'an ONBUILD of a stage the target never reaches',
    text: 'FROM busybox AS base\nONBUILD COPY a.txt /a\nFROM base AS dev\nFROM scratch\nCOPY b /b\n',
    context: ['b'],
  },
  {
    name: 'an ONBUILD that reads nothing (ENV)',
    text: 'FROM busybox AS base\nONBUILD ENV X=1\nFROM base\nCOPY b /b\n',
    context: ['b'],
  },
  {
    name: "the target stage's own ONBUILD reads nothing of this build",
    text: 'FROM scratch\nONBUILD COPY a /a\nCOPY b /b\n',
    context: ['b'],
  },
  // when in doubt
  { name: 'a syntax frontend we know', text: '# syntax=docker/dockerfile:1.7-labs\nFROM scratch\nCOPY a /a\n', context: ['a'] },
  {
    name: 'an unknown syntax frontend: whole',
    text: '# syntax=example.invalid/frontend:1\nFROM scratch\nCOPY a /a\n',
    opts: { namedContexts: ['x'] },
    context: 'whole',
    named: { x: 'whole' },
  },
  { name: 'a Dockerfile BuildKit rejects: whole', text: 'FROM scratch\nCOPPY a /a\n', context: 'whole' },
  { name: 'instructions before FROM: whole', text: 'COPY a /a\nFROM scratch\n', context: 'whole' },
];

const view = (r: { whole: true } | { whole: false; paths: string[] }): Expect => (r.whole ? 'whole' : r.paths);

describe('dockerfileReads', () => {
  it.each(cases)('$name', ({ text, opts, context, named }) => {
    const reads = dockerfileReads(text, opts);
    expect(view(reads.context)).toEqual(context);
    expect(Object.fromEntries(Object.entries(reads.namedContexts).map(([k, v]) => [k, view(v)]))).toEqual(named ?? {});
  });

  it('reports a Dockerfile BuildKit would reject with its line', () => {
    const reads = dockerfileReads('FROM scratch\nRUN true\nCOPPY a /a\n');
    expect(reads.problem).toEqual({ line: 3, message: 'unknown instruction: COPPY' });
    expect(reads.context).toEqual({ whole: true, reasons: ['line 3: unknown instruction: COPPY'] });
  });

  it('says why it falls back to the whole context', () => {
    const reads = dockerfileReads('FROM scratch\nCOPY go.mod /\nCOPY . /src\n');
    expect(reads.context).toEqual({ whole: true, reasons: ['line 3: COPY . reads the whole context'] });
  });

  it('names the instruction and line that read each pattern (docker-explain)', () => {
    const reads = dockerfileReads(
      'FROM scratch AS a\nCOPY src/ /s\nFROM a\nCOPY --from=a /s /t\nCOPY src/x go.mod /\nRUN --mount=type=bind,source=pb true\n',
    );
    expect(reads.context.whole ? undefined : reads.context.readBy).toEqual({
      src: [{ line: 2, instruction: 'COPY src/' }],
      'src/x': [{ line: 5, instruction: 'COPY src/x' }],
      'go.mod': [{ line: 5, instruction: 'COPY go.mod' }],
      pb: [{ line: 6, instruction: 'RUN --mount=type=bind,source=pb' }],
    });
  });

  it("reports the target stage's reading ONBUILD, for the builds FROM this image", () => {
    const text = 'FROM busybox AS base\nONBUILD ENV X=1\nONBUILD COPY . /app\nFROM scratch AS other\nONBUILD ADD x /x\n';
    expect(dockerfileReads(text, { target: 'base' }).onbuild).toEqual({ line: 3, instruction: 'ONBUILD COPY . /app' });
    expect(dockerfileReads(text).onbuild).toEqual({ line: 5, instruction: 'ONBUILD ADD x /x' });
    expect(dockerfileReads('FROM busybox\nONBUILD ENV X=1\n').onbuild).toBeUndefined();
    expect(dockerfileReads('FROM busybox\nONBUILD COPY a \\\n   b /d\n').onbuild).toEqual({ line: 2, instruction: 'ONBUILD COPY a b /d' });
    // The stage walk gave up (an unknown FROM): any stage's trigger counts.
    expect(dockerfileReads('FROM busybox AS a\nONBUILD COPY a /a\nFROM ${X}\n').onbuild?.line).toBe(2);
  });

  it("names the base stage's trigger as the reason for the whole context", () => {
    const reads = dockerfileReads('FROM busybox AS base\nONBUILD COPY a.txt /a\nFROM base\n');
    expect(reads.context).toEqual({ whole: true, reasons: ['line 2: ONBUILD COPY a.txt /a (run by FROM base, line 3)'] });
  });

  it('memoises on its inputs', () => {
    const text = 'FROM scratch\nCOPY a /a\n';
    expect(dockerfileReads(text, { args: { X: '1' } })).toBe(dockerfileReads(text, { args: { X: '1' } }));
    expect(dockerfileReads(text, { args: { X: '1' } })).not.toBe(dockerfileReads(text, { args: { X: '2' } }));
  });
});

describe('sourcePattern', () => {
  it.each([
    ['a/b', false, 'a/b'],
    ['/a//b/', false, 'a/b'],
    ['./a/./b', false, 'a/b'],
    ['../..', false, ''],
    ['a/**/b', false, 'a'],
    ['a/x**', false, 'a'],
    ['a/[b', false, 'a'],
    ['a/[!b]', false, 'a'],
    ['a/[^b]c', false, 'a/[^b]c'],
    ['a/*.go', true, 'a'],
    ['a b/c', true, 'a b/c'],
  ])('%s (escaped: %s) -> %s', (source, escaped, expected) => {
    expect(sourcePattern(source, escaped)).toBe(expected);
  });
});
