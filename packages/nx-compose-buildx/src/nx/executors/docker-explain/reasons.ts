/**
 * Why a service's image may differ from the one built at the base commit, in the user's terms
 * (docker-explain). Pure: the two sides' build specs and what their Dockerfiles read, the changed
 * files, the dependencies' own reasons and the registry's answer in; reasons out. Loading the
 * compose files at a commit, git and the registry are the executor's edge.
 *
 * - a changed file, with the Dockerfile instruction (file:line) that reads it;
 * - a compose build field with its old and new value and the file that sets it (field names are
 *   the compose names of build-fields.ts; values of secret-like names are masked, secret-args.ts);
 * - an environment variable whose value changes a build field;
 * - a base image built by another service that has reasons of its own;
 * - a platform added or removed;
 * - the registry's answer for the content key: "no image with this key in <registry>".
 */
import { BUILD_FIELDS } from '../../../build-spec/build-fields';
import { MASK, isSecretLikeName } from '../../../build-spec/secret-args';
import type { BuildOptions, ServiceBuildSpec } from '../../../build-spec/types';
import { contextKind } from '../../../build-spec/paths';
import type { SourceLocation } from '../../../compose/types';
import {
  baseTriggerSite,
  createIgnoreMatcher,
  instructionSite,
  parseDockerfileSafe,
  patternReads,
  type ContextReads,
  type DockerfileReads,
} from '../../../graph';

/** One side of the comparison: the service as the compose files at one commit give it. */
export interface ExplainSide {
  spec: ServiceBuildSpec;
  /** Compose key path (`build.args`, `build.args.X`, `image`, `x-nx-buildx`...) → where it was last set, workspace-relative. */
  locations: Record<string, SourceLocation>;
  reads: DockerfileReads;
  /** Workspace-relative ignore file in effect, if any. */
  ignoreFile?: string;
  ignorePatterns: string[];
  /** Each local named context's own `.dockerignore` lines (by context name), where it has one. */
  namedIgnorePatterns?: Record<string, string[]>;
  /** The Dockerfile's text, when it could be read (to name the instructions that changed). */
  dockerfileText?: string;
}

/** An instruction of the Dockerfile added or removed between the two sides (a changed one is both). */
export interface InstructionChange {
  change: 'added' | 'removed';
  /** Its line in the head's Dockerfile (added) or the base's (removed). */
  line: number;
  instruction: string;
}

export interface ReadBy {
  /** Workspace-relative Dockerfile ('(inline Dockerfile)' for dockerfile_inline). */
  file: string;
  line: number;
  instruction: string;
}

export type Reason =
  | { kind: 'service'; change: 'added' | 'unreadable'; detail?: string }
  | {
      kind: 'file';
      file: string;
      /** The Dockerfile or ignore file itself, or a platform's config file; absent: a file the build reads. */
      role?: 'dockerfile' | 'ignore-file' | 'platform-config';
      readBy: ReadBy[];
      /** For the Dockerfile: the instructions added and removed. */
      instructions?: InstructionChange[];
      platforms?: string[];
    }
  | { kind: 'field'; field: string; old?: string; new?: string; masked?: boolean; setIn?: string; platforms?: string[] }
  | { kind: 'platform'; platform: string; change: 'added' | 'removed' }
  | { kind: 'environment'; variables: string[]; fields: string[] }
  /** service: a base built by another workspace service; absent: an external image whose tag moved. */
  | { kind: 'base-image'; image: string; service?: string; because: string; platforms?: string[] }
  | { kind: 'registry'; outcome: 'hit' | 'miss' | 'none' | 'off'; detail: string; platforms?: string[]; ref?: string; registry?: string };

/** The registry's answer for one push (one per platform for a service built per platform). */
export interface RegistryAnswer {
  platforms?: string[];
  outcome: 'hit' | 'miss' | 'none' | 'off';
  detail: string;
  ref?: string;
  registry?: string;
  /** On a miss: bases whose digest differs from the one recorded in the image under `builtImage`. */
  movedBases?: ReadonlyArray<{ image: string; was: string; now: string }>;
  builtImage?: string;
}

export interface ExplainInput {
  head: ExplainSide;
  /** Absent: the service did not exist (or could not be loaded, `baseError`) at the base commit. */
  base?: ExplainSide;
  baseError?: string;
  /** Workspace-relative files changed between the base and the head (or the working tree). */
  changedFiles: readonly string[];
  /** The head side as the committed files alone give it (no process environment), when the environment changes it. */
  committed?: ExplainSide;
  /** Variables the service uses that the process environment sets. */
  environmentSet?: readonly string[];
  /** Services whose images this one builds on, with their own reasons. */
  dependencies?: ReadonlyArray<{ service: string; image: string; reasons: Reason[] }>;
  registry?: readonly RegistryAnswer[];
}

export function explainReasons(input: ExplainInput): Reason[] {
  const { head, base } = input;
  const reasons: Reason[] = [];
  if (!base)
    reasons.push(
      input.baseError ? { kind: 'service', change: 'unreadable', detail: input.baseError } : { kind: 'service', change: 'added' },
    );
  reasons.push(...fileReasons(input.changedFiles, base ? [head, base] : [head]));
  if (base) reasons.push(...fieldReasons(base.spec, head.spec, head.locations, base.locations));
  if (input.committed) {
    const fields = fieldReasons(input.committed.spec, head.spec, head.locations).flatMap((r) =>
      r.kind === 'field' ? [r.field] : r.kind === 'platform' ? [`build.platforms (${r.platform})`] : [],
    );
    if (fields.length) reasons.push({ kind: 'environment', variables: [...(input.environmentSet ?? [])], fields });
  }
  for (const dep of input.dependencies ?? []) {
    const own = dep.reasons.filter((r) => r.kind !== 'registry');
    if (own.length)
      reasons.push({
        kind: 'base-image',
        image: dep.image,
        service: dep.service,
        because: `${describeReason(own[0]!)}${own.length > 1 ? ` (and ${own.length - 1} more)` : ''}`,
      });
  }
  for (const answer of input.registry ?? [])
    for (const m of answer.movedBases ?? [])
      reasons.push({
        kind: 'base-image',
        image: m.image,
        because: `its tag now points to ${m.now}; ${answer.builtImage ?? 'the pushed image'} was built on ${m.was}`,
        ...(answer.platforms ? { platforms: answer.platforms } : {}),
      });
  // With nothing else to show, say what else the key covers, rather than "inputs changed".
  const alone = reasons.length === 0;
  for (const answer of input.registry ?? []) {
    const detail =
      alone && answer.outcome === 'miss'
        ? `${answer.detail}; no file, compose field, platform or base service changed since the base commit, but the key also covers the digests of the images it builds on and the values of build args from the environment`
        : answer.detail;
    const { movedBases: _moved, builtImage: _built, ...rest } = answer;
    reasons.push({ kind: 'registry', ...rest, detail });
  }
  return reasons;
}

// ---------------------------------------------------------------------------------------
// Files

const contextPrefix = (dir: string) => (dir === '.' || dir === '' ? '' : `${dir}/`);

function sitesOf(reads: ContextReads, rel: string, dockerfile: string): ReadBy[] {
  if (reads.whole) {
    // "line N: COPY . . reads the whole context" → that instruction; other reasons (a syntax problem) name no instruction.
    return reads.reasons.flatMap((r) => {
      const trigger = baseTriggerSite(r);
      if (trigger) return [trigger];
      const m = /^line (\d+): (.*?)(?: reads the whole context)?$/.exec(r);
      return m ? [{ file: dockerfile, line: Number(m[1]), instruction: m[2]! }] : [];
    });
  }
  const out: ReadBy[] = [];
  for (const [pattern, sites] of Object.entries(reads.readBy ?? {}))
    if (patternReads(pattern, rel)) for (const s of sites) out.push({ file: dockerfile, ...s });
  return out.sort((a, b) => a.line - b.line);
}

/** Whether the build can read `rel` from this context at all. */
function isRead(reads: ContextReads, rel: string): boolean {
  return reads.whole || reads.paths.some((p) => patternReads(p, rel));
}

/**
 * The changed files that are inputs of the image, each with what reads it. A file is judged on
 * both sides (a deleted file by the base's Dockerfile and ignore rules, a new one by the head's).
 */
export function fileReasons(changed: readonly string[], sides: readonly ExplainSide[]): Reason[] {
  const byFile = new Map<string, Extract<Reason, { kind: 'file' }>>();
  const note = (file: string, role: Extract<Reason, { kind: 'file' }>['role'], readBy: ReadBy[], platforms?: string[]) => {
    const known = byFile.get(file);
    if (!known) {
      byFile.set(file, { kind: 'file', file, ...(role ? { role } : {}), readBy, ...(platforms ? { platforms } : {}) });
      return;
    }
    for (const r of readBy)
      if (!known.readBy.some((k) => k.file === r.file && k.line === r.line && k.instruction === r.instruction)) known.readBy.push(r);
  };
  const matchers = new Map<ExplainSide, ReturnType<typeof createIgnoreMatcher>>();
  const namedMatchers = new Map<readonly string[], ReturnType<typeof createIgnoreMatcher>>();
  for (const file of changed) {
    for (const side of sides) {
      const { spec } = side;
      const dockerfile = spec.dockerfile ?? '(inline Dockerfile)';
      if (file === spec.dockerfile) {
        if (!byFile.has(file) && sides.length > 1 && sides[0]!.spec.dockerfile === sides[1]!.spec.dockerfile) {
          const instructions = instructionChanges(sides[1]!.dockerfileText, sides[0]!.dockerfileText);
          byFile.set(file, { kind: 'file', file, role: 'dockerfile', readBy: [], ...(instructions.length ? { instructions } : {}) });
        } else note(file, 'dockerfile', []);
        continue;
      }
      if (file === side.ignoreFile) {
        note(file, 'ignore-file', []);
        continue;
      }
      const config = spec.platformConfig;
      if (config && file === config.base) note(file, 'platform-config', []);
      for (const [platform, overlay] of Object.entries(config?.overlays ?? {}))
        if (file === overlay) note(file, 'platform-config', [], [platform]);
      if (contextKind(spec.context) === 'local' && file.startsWith(contextPrefix(spec.context))) {
        const rel = file.slice(contextPrefix(spec.context).length);
        let matcher = matchers.get(side);
        if (!matcher) matchers.set(side, (matcher = createIgnoreMatcher(side.ignorePatterns)));
        if (!matcher.ignores(rel) && isRead(side.reads.context, rel)) note(file, undefined, sitesOf(side.reads.context, rel, dockerfile));
      }
      for (const [name, dir] of Object.entries(spec.additionalContexts)) {
        const reads = side.reads.namedContexts[name];
        if (!reads || contextKind(dir) !== 'local' || !file.startsWith(contextPrefix(dir))) continue;
        const rel = file.slice(contextPrefix(dir).length);
        if (rel === '.dockerignore') {
          note(file, 'ignore-file', []);
          continue;
        }
        const patterns = side.namedIgnorePatterns?.[name];
        if (patterns) {
          let named = namedMatchers.get(patterns);
          if (!named) namedMatchers.set(patterns, (named = createIgnoreMatcher(patterns)));
          if (named.ignores(rel)) continue;
        }
        if (isRead(reads, rel)) note(file, undefined, sitesOf(reads, rel, dockerfile));
      }
    }
  }
  return [...byFile.values()];
}

/** The Dockerfile's instructions with their lines (continuations joined, spaces collapsed); comments and blank lines left out. */
function instructionsOf(text: string | undefined): Array<{ line: number; instruction: string }> {
  if (text === undefined) return [];
  const parsed = parseDockerfileSafe(text);
  if (!parsed.ok) {
    return text
      .split(/\r?\n/)
      .map((l, i) => ({ line: i + 1, instruction: l.trim() }))
      .filter((x) => x.instruction && !x.instruction.startsWith('#'));
  }
  const lines = text.split(/\r?\n/);
  const escape = parsed.dockerfile.getEscapeCharacter();
  return parsed.dockerfile.getInstructions().map((ins) => instructionSite(ins, lines, escape));
}

const shorten = (s: string) => (s.length > 100 ? `${s.slice(0, 97)}...` : s);

/** The instructions added and removed between two Dockerfile texts (longest common subsequence). */
export function instructionChanges(oldText: string | undefined, newText: string | undefined): InstructionChange[] {
  const a = instructionsOf(oldText);
  const b = instructionsOf(newText);
  if (!a.length || !b.length) return [];
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i]!.instruction === b[j]!.instruction ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: InstructionChange[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i]!.instruction === b[j]!.instruction) {
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      out.push({ change: 'added', line: b[j]!.line, instruction: shorten(b[j]!.instruction) });
      j++;
    } else {
      out.push({ change: 'removed', line: a[i]!.line, instruction: shorten(a[i]!.instruction) });
      i++;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Compose fields

const show = (v: unknown): string | undefined => (v === undefined ? undefined : JSON.stringify(v));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Build fields whose values are maps, compared key by key (`build.args.VERSION`). */
const MAP_FIELDS = new Set<keyof BuildOptions>(['args', 'labels', 'additionalContexts']);

function whereSet(key: string, ...locations: Array<Record<string, SourceLocation> | undefined>): string | undefined {
  for (const locs of locations) {
    const loc = locs?.[key];
    if (loc) return loc.line ? `${loc.file}:${loc.line}` : loc.file;
  }
  return undefined;
}

function mapReasons(
  field: string,
  old: Record<string, string>,
  now: Record<string, string>,
  masked: (name: string) => boolean,
  setIn: (name: string) => string | undefined,
  platforms?: string[],
): Reason[] {
  const out: Reason[] = [];
  for (const name of [...new Set([...Object.keys(old), ...Object.keys(now)])].sort()) {
    if (old[name] === now[name]) continue;
    const mask = masked(name);
    const value = (v: string | undefined) => (v === undefined ? undefined : mask ? MASK : JSON.stringify(v));
    const where = setIn(name);
    out.push({
      kind: 'field',
      field: `${field}.${name}`,
      ...(value(old[name]) !== undefined ? { old: value(old[name]) } : {}),
      ...(value(now[name]) !== undefined ? { new: value(now[name]) } : {}),
      ...(mask ? { masked: true } : {}),
      ...(where ? { setIn: where } : {}),
      ...(platforms ? { platforms } : {}),
    });
  }
  return out;
}

/**
 * The build fields that differ, by their compose names: maps key by key, platforms as added or
 * removed, per-platform args (x-nx-buildx.platformArgs) for their platform alone.
 */
export function fieldReasons(
  old: ServiceBuildSpec,
  now: ServiceBuildSpec,
  locations: Record<string, SourceLocation> = {},
  oldLocations: Record<string, SourceLocation> = {},
): Reason[] {
  const out: Reason[] = [];
  const at = (key: string) => whereSet(key, locations, oldLocations);
  for (const [option, row] of Object.entries(BUILD_FIELDS) as Array<[keyof BuildOptions, { compose: readonly string[] }]>) {
    const a = old[option];
    const b = now[option];
    if (same(a, b)) continue;
    const compose = `build.${row.compose[0]}`;
    if (option === 'platforms') {
      for (const p of (b as string[]).filter((x) => !(a as string[]).includes(x)))
        out.push({ kind: 'platform', platform: p, change: 'added' });
      for (const p of (a as string[]).filter((x) => !(b as string[]).includes(x)))
        out.push({ kind: 'platform', platform: p, change: 'removed' });
      continue;
    }
    if (MAP_FIELDS.has(option)) {
      const masked = option === 'args' ? isSecretLikeName : () => false;
      out.push(
        ...mapReasons(compose, (a ?? {}) as Record<string, string>, (b ?? {}) as Record<string, string>, masked, (name) =>
          option === 'args' ? (at(`build.args.${name}`) ?? at('build.args')) : at(compose),
        ),
      );
      continue;
    }
    if (option === 'tags') {
      // The first tag is compose `image:` (or the name Compose gives the image); the rest are build.tags.
      const [oldImage, ...oldTags] = a as string[];
      const [newImage, ...newTags] = b as string[];
      if (oldImage !== newImage) out.push(field('image', show(oldImage), show(newImage), at('image')));
      if (!same(oldTags, newTags)) out.push(field('build.tags', show(oldTags), show(newTags), at('build.tags')));
      continue;
    }
    out.push(field(compose, show(a), show(b), at(compose)));
  }
  const platforms = [...new Set([...Object.keys(old.platformArgs ?? {}), ...Object.keys(now.platformArgs ?? {})])].sort();
  for (const p of platforms) {
    out.push(
      ...mapReasons(
        `x-nx-buildx.platformArgs.${p}`,
        old.platformArgs?.[p] ?? {},
        now.platformArgs?.[p] ?? {},
        isSecretLikeName,
        () => at('x-nx-buildx'),
        [p],
      ),
    );
  }
  if (!same(old.platformConfig, now.platformConfig))
    out.push(field('x-nx-buildx.platformConfig', show(old.platformConfig), show(now.platformConfig), at('x-nx-buildx')));
  return out;
}

function field(name: string, old: string | undefined, now: string | undefined, setIn: string | undefined): Reason {
  return {
    kind: 'field',
    field: name,
    ...(old !== undefined ? { old } : {}),
    ...(now !== undefined ? { new: now } : {}),
    ...(setIn ? { setIn } : {}),
  };
}

// ---------------------------------------------------------------------------------------
// Text

function describeReadBy(r: ReadBy): string {
  return `${r.file}:${r.line} (${r.instruction})`;
}

/** One reason as a line of text (no secret value: masked fields carry only ****). */
export function describeReason(r: Reason): string {
  const on = 'platforms' in r && r.platforms?.length ? `[${r.platforms.join(', ')}] ` : '';
  switch (r.kind) {
    case 'service':
      return r.change === 'added'
        ? 'the service is new since the base commit'
        : `the compose files at the base commit cannot be loaded (${r.detail}): every build field counts as new`;
    case 'file':
      if (r.role === 'dockerfile')
        return `${on}file ${r.file}: the Dockerfile changed${
          r.instructions?.length
            ? ` (${r.instructions.map((c) => `${c.change === 'added' ? '+' : '-'} line ${c.line}: ${c.instruction}`).join('; ')})`
            : ''
        }`;
      if (r.role === 'ignore-file') return `${on}file ${r.file}: the ignore file in effect changed`;
      if (r.role === 'platform-config') return `${on}file ${r.file}: platform config (x-nx-buildx.platformConfig) changed`;
      return `${on}file ${r.file}: read by ${r.readBy.length ? r.readBy.map(describeReadBy).join(', ') : 'the build'}`;
    case 'field':
      return `${on}compose ${r.field}: ${r.old ?? '(unset)'} → ${r.new ?? '(unset)'}${r.setIn ? ` (set in ${r.setIn})` : ''}`;
    case 'platform':
      return `platform ${r.platform} ${r.change}`;
    case 'environment':
      return `environment ${r.variables.join(', ') || '(a variable)'}: changes ${r.fields.join(', ')} from what the committed files alone give`;
    case 'base-image':
      return `${on}base image ${r.image}${r.service ? ` (service ${r.service})` : ''} changed: ${r.because}`;
    case 'registry':
      return `${on}registry: ${r.detail}`;
  }
}
