/**
 * What a build can read from its contexts: the paths of the main build context and of each
 * named context (`additional_contexts`) that the stages the build needs COPY, ADD or
 * bind-mount. Pure: Dockerfile text and the service's build settings in, path patterns out.
 *
 * Follows BuildKit's Dockerfile frontend (dockerfile2llb):
 * - only the target stage (the last one without `target:`) and the stages it reaches
 *   through `FROM <stage>`, `COPY --from=<stage|index>` and `RUN --mount=from=<stage>` run;
 * - `COPY`/`ADD` sources are expanded with the stage's ARGs (build args override defaults,
 *   ARGs before the first FROM reach a stage only when redeclared there) and ENVs, a
 *   leading `/` is the context root, `..` cannot leave it, a folder means everything below
 *   it, wildcards are Go `filepath.Match` patterns segment by segment;
 * - heredoc sources and `ADD <url>` read no context; `--from=<stage|image>` reads no
 *   context; `--from=<named context>` (and `FROM <named context>`, `RUN --mount=from=`)
 *   reads that context; a named context with a stage's name replaces that stage (none of
 *   its instructions run; `FROM`, `--from` and `--mount from=` naming it read the context);
 * - `RUN --mount=type=bind` without `from` reads its `source` (default: the whole context).
 *
 * When in doubt the answer is the whole context, never less: a source reduced to the
 * root (`COPY . .`), a variable whose value is not known at graph time (an ARG without a
 * value over an image, which may set it as ENV; `BUILDPLATFORM`; `TARGETARCH` when the
 * service names no platforms), a `# syntax=` frontend other than docker/dockerfile, a
 * `**` segment or an escape character in a source (the pattern is cut before it), an
 * unknown `--from`, or a Dockerfile BuildKit would reject. `COPY --exclude` is not applied
 * (over-selects). A base stage's reading `ONBUILD` trigger (it runs in the stage built on it)
 * makes every context whole; the target stage's is reported (`onbuild`) for the builds
 * on this image; those of images from outside the workspace are not seen. Symlinks among the sources
 * are followed afterwards, against the context's listing (read-inputs.ts followLinks).
 */
import type { Dockerfile, Instruction, ModifiableInstruction, Onbuild, Property, PropertyInstruction } from 'dockerfile-ast';
import {
  expandWord,
  instructionFact,
  namedContextLookup,
  parseDockerfileCached,
  replacingContexts,
  reachedStages,
  targetStageIndex,
  type DockerfileProblem,
} from './dockerfile-refs';

/** What a build reads from one context. `paths` are context-relative patterns (see module doc), each meaning the matched path and everything below it. */
export type ContextReads = { whole: true; reasons: string[] } | { whole: false; paths: string[]; readBy?: Record<string, ReadSite[]> };

/** An instruction that reads a pattern (for docker-explain): its 1-based line and what it reads, e.g. `COPY src/`. */
export interface ReadSite {
  line: number;
  instruction: string;
}

export interface DockerfileReads {
  /** The main build context. */
  context: ContextReads;
  /** Named contexts the build reads, by name as given in `namedContexts`; absent ones are not read. */
  namedContexts: Record<string, ContextReads>;
  /** Set when BuildKit would reject the Dockerfile: then every context counts as read whole. */
  problem?: DockerfileProblem;
  /**
   * The first `ONBUILD` of the target stage whose trigger can read a context (`COPY`, `ADD`,
   * `RUN`): the image this build makes runs it in the contexts of every build `FROM` it, so
   * such a build counts its contexts as read whole.
   */
  onbuild?: ReadSite;
}

export interface DockerfileReadsOptions {
  /** Build args (they override ARG defaults). */
  args?: Readonly<Record<string, string>>;
  /** Per-platform build args, merged over `args` for that platform. */
  platformArgs?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  target?: string;
  /** Platforms the service builds; the reads of each are united. Empty: the builder's platform (TARGET* unknown). */
  platforms?: readonly string[];
  /** Names of the service's additional contexts. */
  namedContexts?: readonly string[];
}

const BASE_TRIGGER = /^(.+):(\d+): (ONBUILD .*) \(the image of \S+ runs it in this build\)$/;

/** The whole-context reason for a dependency's trigger, and (for docker-explain) the site it names. */
const baseTriggerReason = (trigger: ReadSite & { file: string }, dep: string) =>
  `${trigger.file}:${trigger.line}: ${trigger.instruction} (the image of ${dep} runs it in this build)`;
export function baseTriggerSite(reason: string): (ReadSite & { file: string }) | undefined {
  const m = BASE_TRIGGER.exec(reason);
  return m ? { file: m[1]!, line: Number(m[2]), instruction: m[3]! } : undefined;
}

/**
 * A workspace image the service builds on runs its `ONBUILD` triggers in this build's
 * contexts; what they read is not parsed, so every context counts as read whole. `triggerOf`
 * gives a dependency's reading trigger (its Dockerfile, line and instruction), if it has one.
 */
export function withBaseTriggers(
  reads: DockerfileReads,
  namedContexts: readonly string[],
  dependencies: readonly string[],
  triggerOf: (project: string) => (ReadSite & { file: string }) | undefined,
): DockerfileReads {
  for (const dep of dependencies) {
    const trigger = triggerOf(dep);
    if (!trigger) continue;
    const whole = { whole: true as const, reasons: [baseTriggerReason(trigger, dep)] };
    return { ...reads, context: whole, namedContexts: Object.fromEntries(namedContexts.map((n) => [n, whole])) };
  }
  return reads;
}

/** Frontends that behave as the built-in one does for what is read. */
const KNOWN_SYNTAX =
  /^(docker\.io\/)?docker\/dockerfile(-upstream)?(:[0-9]+(\.[0-9]+){0,2}(-labs)?|:labs|:latest)?(@sha256:[0-9a-f]{64})?$/;
const URL_SOURCE = /^([a-z][a-z0-9+.-]*:\/\/|git@)/i;
const WILDCARD = /[*?[\]]/;

const UNKNOWN = Symbol('unknown');
type Value = string | typeof UNKNOWN;

interface Accumulator {
  whole: string[];
  paths: Set<string>;
  /** pattern → the instructions that read it (before minimalPaths drops covered patterns). */
  by: Map<string, ReadSite[]>;
}

interface StageRecord {
  name?: string;
  deps: Set<number>;
  main: Accumulator;
  named: Map<string, Accumulator>;
  /** Set when a stage reference could not be resolved: every context counts as whole. */
  ambiguous?: string;
  /** The named context that replaces this stage: its instructions are skipped. */
  replacedBy?: string;
  /** Variables in scope: ENVs, and ARGs (`envFromArg`) unless an ENV of that name exists. */
  env: Map<string, Value>;
  envFromArg?: Set<string>;
  /** Whether a variable no instruction set is known to be empty (the stage's root is scratch). */
  missIsEmpty: boolean;
  /** The stage's first `ONBUILD` whose trigger can read a context. */
  onbuild?: ReadSite;
}

const acc = (): Accumulator => ({ whole: [], paths: new Set(), by: new Map() });

const readsCache = new Map<string, DockerfileReads>();
const CACHE_LIMIT = 5000;

/** What the build of `text` with these settings can read. Memoised on its inputs (many services share a Dockerfile). */
export function dockerfileReads(text: string, options: DockerfileReadsOptions = {}): DockerfileReads {
  const key = JSON.stringify([
    text,
    options.args ?? {},
    options.platformArgs ?? {},
    options.target ?? null,
    options.platforms ?? [],
    options.namedContexts ?? [],
  ]);
  const hit = readsCache.get(key);
  if (hit) return hit;
  const result = computeReads(text, options);
  if (readsCache.size >= CACHE_LIMIT) readsCache.clear();
  readsCache.set(key, result);
  return result;
}

function computeReads(text: string, options: DockerfileReadsOptions): DockerfileReads {
  const named = [...(options.namedContexts ?? [])];
  const everything = (reason: string, problem?: DockerfileProblem): DockerfileReads => ({
    context: { whole: true, reasons: [reason] },
    namedContexts: Object.fromEntries(named.map((n) => [n, { whole: true, reasons: [reason] } as ContextReads])),
    ...(problem ? { problem } : {}),
  });
  const parsed = parseDockerfileCached(text);
  if (!parsed.ok) return everything(`line ${parsed.error.line}: ${parsed.error.message}`, parsed.error);
  const syntax = parsed.dockerfile.getDirectives().find((d) => d.getName().toLowerCase() === 'syntax');
  if (syntax && !KNOWN_SYNTAX.test((syntax.getValue() ?? '').trim()))
    return {
      ...everything(`# syntax=${syntax.getValue()} is a frontend whose reads are not known`),
      ...anyOnbuild(parsed.dockerfile, text),
    };

  const platforms = options.platforms?.length ? options.platforms : [undefined];
  const main = acc();
  const namedAcc = new Map<string, Accumulator>();
  let onbuild: ReadSite | undefined;
  for (const platform of platforms) {
    const args = { ...options.args, ...(platform ? options.platformArgs?.[platform] : undefined) };
    const one = readsForPlatform(parsed.dockerfile, text, args, platform, options.target, named);
    if ('everything' in one) return { ...everything(one.everything), ...anyOnbuild(parsed.dockerfile, text) };
    onbuild ??= one.onbuild;
    merge(main, one.main);
    for (const [n, a] of one.named) {
      if (!namedAcc.has(n)) namedAcc.set(n, acc());
      merge(namedAcc.get(n) as Accumulator, a);
    }
  }
  return {
    context: finish(main),
    namedContexts: Object.fromEntries([...namedAcc].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, a]) => [n, finish(a)])),
    ...(onbuild ? { onbuild } : {}),
  };
}

/** When the stage walk gave up, any stage's reading `ONBUILD`, so that a build on this image never under-counts. */
function anyOnbuild(df: Dockerfile, text: string): { onbuild?: ReadSite } {
  const ins = df.getInstructions().find((i) => i.getKeyword() === 'ONBUILD' && readingTrigger(i));
  return ins ? { onbuild: instructionSite(ins, text.split(/\r?\n/), df.getEscapeCharacter()) } : {};
}

/** An instruction as a read site: its 1-based line and its text, continuation lines joined, spaces collapsed. */
export function instructionSite(ins: Instruction, lines: readonly string[], escape: string): ReadSite {
  const { start, end } = ins.getRange();
  const joined = lines
    .slice(start.line, end.line + 1)
    .map((l) => (l.trimEnd().endsWith(escape) ? l.trimEnd().slice(0, -1) : l))
    .join(' ');
  return { line: start.line + 1, instruction: joined.replace(/\s+/g, ' ').trim() };
}

function readingTrigger(ins: Instruction): boolean {
  return READING_TRIGGERS.has(((ins as Onbuild).getTriggerWord() ?? '').toUpperCase());
}

function merge(into: Accumulator, from: Accumulator): void {
  into.whole.push(...from.whole.filter((r) => !into.whole.includes(r)));
  for (const p of from.paths) into.paths.add(p);
  for (const [p, sites] of from.by) {
    const known = into.by.get(p) ?? [];
    for (const s of sites) if (!known.some((k) => k.line === s.line && k.instruction === s.instruction)) known.push(s);
    into.by.set(p, known);
  }
}

function finish(a: Accumulator): ContextReads {
  if (a.whole.length) return { whole: true, reasons: a.whole };
  return { whole: false, paths: minimalPaths([...a.paths]), readBy: Object.fromEntries(a.by) };
}

/** Sorted, without a path already covered by a literal path above it. */
function minimalPaths(paths: string[]): string[] {
  const sorted = [...new Set(paths)].sort();
  const literal = new Set(sorted.filter((p) => !WILDCARD.test(p)));
  return sorted.filter((p) => {
    const segs = p.split('/');
    for (let i = 1; i < segs.length; i++) if (literal.has(segs.slice(0, i).join('/'))) return false;
    return true;
  });
}

// ---------------------------------------------------------------------------------------

/** BuildKit's automatic platform args for one platform (`os/arch[/variant]`). */
function platformArgValues(platform: string | undefined): Map<string, Value> {
  const out = new Map<string, Value>();
  for (const k of ['BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT']) out.set(k, UNKNOWN);
  const [os, arch, variantRaw] = (platform ?? '').split('/');
  if (!platform || !os || !arch) {
    for (const k of ['TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT']) out.set(k, UNKNOWN);
    return out;
  }
  const variant = variantRaw ?? (arch === 'arm' ? 'v7' : '');
  out.set('TARGETPLATFORM', `${os}/${arch}${variant ? `/${variant}` : ''}`);
  out.set('TARGETOS', os);
  out.set('TARGETARCH', arch);
  out.set('TARGETVARIANT', variant);
  return out;
}

type PlatformReads = { main: Accumulator; named: Map<string, Accumulator>; onbuild?: ReadSite } | { everything: string };

/** Trigger instructions that can read a context (`COPY`, `ADD`, `RUN --mount`; any `RUN`, to stay on the safe side). */
const READING_TRIGGERS = new Set(['COPY', 'ADD', 'RUN']);

function readsForPlatform(
  df: Dockerfile,
  text: string,
  args: Record<string, string>,
  platform: string | undefined,
  target: string | undefined,
  namedContexts: readonly string[],
): PlatformReads {
  const escape = df.getEscapeCharacter();
  const lines = text.split(/\r?\n/);
  const instructions = df.getInstructions();
  const hasArg = (name: string) => Object.prototype.hasOwnProperty.call(args, name);
  const automatic = platformArgValues(platform);

  // Every stage name, for `--from` references that may point forward.
  const stageNames: string[] = [];
  for (const ins of instructions) {
    if (ins.getKeyword() !== 'FROM') continue;
    const a = instructionFact(ins, 'arguments', () => ins.getArguments());
    stageNames.push(a.length === 3 ? a[2].getValue().toLowerCase() : '');
  }
  const namedContextOf = namedContextLookup(namedContexts);

  const meta = new Map<string, Value>();
  const stages: StageRecord[] = [];
  let stage: StageRecord | undefined;

  /** Expands a word; `unknown` is set when a variable without a known value was used. */
  const expand = (word: string, scope: 'meta' | 'stage', quotes = true): { value: string; unknown: boolean } => {
    let unknown = false;
    const lookup = (name: string): string | undefined => {
      let v: Value | undefined;
      if (scope === 'meta') v = meta.has(name) ? meta.get(name) : automatic.get(name);
      else v = stage?.env.get(name);
      if (v === UNKNOWN) {
        unknown = true;
        return '';
      }
      if (v === undefined && scope === 'stage' && !stage?.missIsEmpty) unknown = true;
      return v;
    };
    const value = expandWord(word, lookup, escape, quotes);
    return { value, unknown };
  };
  const lineOf = (ins: Instruction) => ins.getRange().start.line + 1;
  const rawText = (r: { start: { line: number; character: number }; end: { line: number; character: number } }): string => {
    if (r.start.line === r.end.line) return lines[r.start.line].slice(r.start.character, r.end.character);
    const parts = [lines[r.start.line].slice(r.start.character)];
    for (let l = r.start.line + 1; l < r.end.line; l++) parts.push(lines[l]);
    parts.push(lines[r.end.line].slice(0, r.end.character));
    return parts.join('\n');
  };

  const resolveStage = (ref: string, forward: boolean, before: number): number | undefined => {
    if (/^\d+$/.test(ref)) {
      const i = Number(ref);
      return i < (forward ? stageNames.length : before) ? i : undefined;
    }
    const lower = ref.toLowerCase();
    const limit = forward ? stageNames.length : before;
    for (let i = 0; i < limit; i++) if (stageNames[i] !== '' && stageNames[i] === lower) return i;
    return undefined;
  };
  // BuildKit looks every stage name up among the named contexts (but `scratch` and `context`).
  const replacedBy = replacingContexts(stageNames, namedContextOf);
  /** What `ref` names: a stage that runs, a named context (also one replacing a stage), or neither (an image). */
  const reference = (ref: string, forward: boolean, before: number): { stage: number } | { context: string } | undefined => {
    const i = resolveStage(ref, forward, before);
    const context = i === undefined ? namedContextOf(ref) : replacedBy[i];
    if (context !== undefined) return { context };
    return i === undefined ? undefined : { stage: i };
  };

  /** Records a read of `source` (as expanded) in the context `ctx` (undefined = main). */
  const read = (into: Accumulator, source: string, rawHadEscape: boolean, where: string, site: ReadSite) => {
    const pattern = sourcePattern(source, rawHadEscape);
    if (pattern === '') into.whole.push(`${where} reads the whole context`);
    else {
      into.paths.add(pattern);
      const sites = into.by.get(pattern);
      if (sites) sites.push(site);
      else into.by.set(pattern, [site]);
    }
  };
  const namedAcc = (s: StageRecord, name: string): Accumulator => {
    if (!s.named.has(name)) s.named.set(name, acc());
    return s.named.get(name) as Accumulator;
  };

  for (const ins of instructions) {
    const keyword = ins.getKeyword();
    const where = `line ${lineOf(ins)}`;
    if (stage?.replacedBy !== undefined && keyword !== 'FROM') continue;
    if (keyword === 'ARG') {
      const assigned = new Set<string>();
      for (const { name, raw } of instructionFact(ins, 'declarations', () => argDeclarations(ins, escape, rawText))) {
        // Whether a value sees a name set earlier on the same line is BuildKit's detail: not known.
        const sameLine = raw !== null && referencesAny(raw, assigned);
        assigned.add(name);
        if (!stage) {
          if (hasArg(name)) meta.set(name, args[name]);
          else if (raw !== null) {
            const e = expand(raw, 'meta');
            meta.set(name, e.unknown || sameLine ? UNKNOWN : e.value);
          } else if (automatic.has(name)) meta.set(name, automatic.get(name) as Value);
          else meta.delete(name);
          continue;
        }
        let v: Value | undefined;
        if (hasArg(name)) v = args[name];
        else if (raw !== null) {
          const e = expand(raw, 'stage');
          v = e.unknown || sameLine ? UNKNOWN : e.value;
        } else if (meta.has(name)) v = meta.get(name);
        else if (automatic.has(name)) v = automatic.get(name);
        // ENV beats ARG of the same name.
        if (!stage.env.has(name) || stage.envFromArg?.has(name)) {
          if (v === undefined) {
            stage.env.delete(name);
            stage.envFromArg?.delete(name);
          } else {
            stage.env.set(name, v);
            (stage.envFromArg ??= new Set()).add(name);
          }
        }
      }
    } else if (keyword === 'FROM') {
      const a = instructionFact(ins, 'arguments', () => ins.getArguments());
      const index = stages.length;
      const e = expand(a[0].getValue(), 'meta');
      const record: StageRecord = {
        ...(a.length === 3 ? { name: a[2].getValue().toLowerCase() } : {}),
        deps: new Set(),
        main: acc(),
        named: new Map(),
        env: new Map(),
        missIsEmpty: false,
      };
      const replacing = replacedBy[index];
      if (replacing !== undefined) {
        record.replacedBy = replacing;
        namedAcc(record, replacing).whole.push(`${where}: the named context ${replacing} replaces stage ${record.name}`);
      } else if (e.unknown || e.value === '') {
        record.ambiguous = `${where}: FROM ${a[0].getValue()} has no known value`;
      } else {
        const ref = reference(e.value, false, index);
        const base = ref && 'stage' in ref ? ref.stage : undefined;
        const ctx = ref && 'context' in ref ? ref.context : undefined;
        if (base !== undefined) {
          record.deps.add(base);
          // BuildKit runs a base stage's ONBUILD triggers here, in this build's contexts.
          const trigger = stages[base].onbuild;
          if (trigger) record.ambiguous = `line ${trigger.line}: ${trigger.instruction} (run by FROM ${e.value}, ${where})`;
          // A stage inherits its base stage's ENVs, not its ARGs.
          const fromArg = stages[base].envFromArg;
          record.env = new Map([...stages[base].env].filter(([k]) => !fromArg?.has(k)));
          record.missIsEmpty = stages[base].missIsEmpty;
        } else if (ctx !== undefined) {
          namedAcc(record, ctx).whole.push(`${where}: FROM ${e.value} (the named context is the stage's root)`);
        } else if (e.value.toLowerCase() === 'scratch') {
          record.missIsEmpty = true;
        }
      }
      stages.push(record);
      stage = record;
    } else if (!stage) {
      continue;
    } else if (keyword === 'ONBUILD') {
      if (readingTrigger(ins)) stage.onbuild ??= instructionSite(ins, lines, escape);
    } else if (keyword === 'ENV') {
      const assigned = new Set<string>();
      const properties = instructionFact(ins, 'properties', () =>
        (ins as PropertyInstruction).getProperties().map((p) => ({ name: p.getName(), raw: propertyRaw(p, rawText) ?? '' })),
      );
      for (const { name, raw } of properties) {
        const e = expand(raw, 'stage');
        stage.env.set(name, e.unknown || referencesAny(raw, assigned) ? UNKNOWN : e.value);
        assigned.add(name);
        stage.envFromArg?.delete(name);
      }
    } else if (keyword === 'COPY' || keyword === 'ADD') {
      const mod = ins as ModifiableInstruction;
      let ctx: { kind: 'main' } | { kind: 'named'; name: string } | { kind: 'none' } = { kind: 'main' };
      for (const flag of instructionFact(ins, 'flags', () => mod.getFlags())) {
        if (flag.getName().toLowerCase() !== 'from') continue;
        const e = expand(flag.getValue() ?? '', 'stage');
        if (e.unknown || e.value === '') {
          stage.ambiguous = `${where}: --from=${flag.getValue() ?? ''} has no known value`;
          ctx = { kind: 'none' };
          continue;
        }
        const ref = reference(e.value, true, stages.length);
        if (ref && 'stage' in ref) {
          stage.deps.add(ref.stage);
          ctx = { kind: 'none' };
        } else if (ref) ctx = { kind: 'named', name: ref.context };
        else ctx = { kind: 'none' }; // an image
      }
      if (ctx.kind === 'none') continue;
      const into = ctx.kind === 'main' ? stage.main : namedAcc(stage, ctx.name);
      const sources = instructionFact(ins, 'sources', () => copySources(ins, lines, escape, rawText));
      if ('whole' in sources) {
        into.whole.push(`${where}: ${sources.whole}`);
        continue;
      }
      for (const word of sources.words) {
        if (keyword === 'ADD' && URL_SOURCE.test(word)) continue;
        const e = expand(word, 'stage', !sources.json);
        if (e.unknown) {
          into.whole.push(`${where}: ${keyword} ${word}: a variable has no known value`);
          continue;
        }
        if (keyword === 'ADD' && URL_SOURCE.test(e.value)) continue;
        read(into, e.value, word.includes(escape), `${where}: ${keyword} ${word}`, {
          line: lineOf(ins),
          instruction: `${keyword} ${word}`,
        });
      }
    } else if (keyword === 'RUN') {
      for (const flag of instructionFact(ins, 'flags', () => (ins as ModifiableInstruction).getFlags())) {
        if (flag.getName().toLowerCase() !== 'mount') continue;
        const opts = new Map<string, string>();
        for (const o of flag.getOptions()) opts.set(o.getName().toLowerCase(), o.getValue() ?? '');
        const typeRaw = opts.get('type') ?? 'bind';
        const type = expand(typeRaw, 'stage').value.toLowerCase();
        if (type !== 'bind' && type !== 'cache') continue;
        const sourceRaw = opts.get('source') ?? opts.get('src') ?? '';
        let into: Accumulator | undefined;
        if (opts.has('from')) {
          const e = expand(opts.get('from') as string, 'stage');
          if (e.unknown || e.value === '') {
            stage.ambiguous = `${where}: --mount from=${opts.get('from')} has no known value`;
            continue;
          }
          const ref = reference(e.value, true, stages.length);
          if (ref && 'stage' in ref) stage.deps.add(ref.stage);
          else if (ref) into = namedAcc(stage, ref.context);
        } else if (type === 'bind') {
          into = stage.main;
        }
        if (!into) continue;
        const e = expand(sourceRaw, 'stage');
        if (e.unknown) into.whole.push(`${where}: RUN --mount source=${sourceRaw}: a variable has no known value`);
        else {
          const mount = `RUN --mount=type=${type}${sourceRaw ? `,source=${sourceRaw}` : ' without source'}`;
          read(into, e.value, sourceRaw.includes(escape), `${where}: ${mount}`, { line: lineOf(ins), instruction: mount });
        }
      }
    }
  }

  if (stages.length === 0) return { everything: 'the Dockerfile has no stage' };
  const targetIndex = targetStageIndex(stageNames, target);
  if (targetIndex === undefined) return { everything: `target "${target}" is not a stage of the Dockerfile` };
  const reached = reachedStages(targetIndex, (i) => stages[i].deps);
  const ambiguous = reached.find((i) => stages[i].ambiguous !== undefined);
  if (ambiguous !== undefined) return { everything: stages[ambiguous].ambiguous as string };
  const main = acc();
  const named = new Map<string, Accumulator>();
  const { onbuild } = stages[targetIndex];
  for (const i of reached) {
    merge(main, stages[i].main);
    for (const [n, a] of stages[i].named) {
      if (!named.has(n)) named.set(n, acc());
      merge(named.get(n) as Accumulator, a);
    }
  }
  return { main, named, ...(onbuild ? { onbuild } : {}) };
}

function referencesAny(raw: string, names: ReadonlySet<string>): boolean {
  if (!names.size) return false;
  for (const m of raw.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) if (names.has(m[1])) return true;
  return false;
}

type RawText = (r: { start: { line: number; character: number }; end: { line: number; character: number } }) => string;

/**
 * `ARG a b=1 c="x y"`: one declaration per word, as BuildKit's parser splits them (on
 * whitespace outside quotes; the escape character keeps the next one). dockerfile-ast
 * would read `ARG a b` as a with the value b.
 */
function argDeclarations(ins: Instruction, escape: string, rawText: RawText): Array<{ name: string; raw: string | null }> {
  const args = ins.getArguments();
  if (!args.length) return [];
  const text = rawText({ start: args[0].getRange().start, end: args[args.length - 1].getRange().end })
    .split('\n')
    .map((l) => (l.endsWith(escape) ? l.slice(0, -1) : l))
    .join(' ');
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === escape && i + 1 < text.length) {
      word += ch + text[i + 1];
      i++;
    } else if (quote) {
      if (ch === quote) quote = undefined;
      word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word += ch;
    } else if (/\s/.test(ch)) {
      if (word) words.push(word);
      word = '';
    } else word += ch;
  }
  if (word) words.push(word);
  return words.map((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? { name: w, raw: null } : { name: w.slice(0, eq), raw: w.slice(eq + 1) };
  });
}

function propertyRaw(p: Property, rawText: (r: NonNullable<ReturnType<Property['getValueRange']>>) => string): string | null {
  const range = p.getValueRange();
  if (!range) return p.getValue();
  return rawText(range);
}

/**
 * The source words of a COPY/ADD (everything but the destination), heredoc markers left
 * out. JSON form is parsed from the raw text (dockerfile-ast drops spaces inside strings).
 */
function copySources(
  ins: Instruction,
  lines: string[],
  escape: string,
  rawText: RawText,
): { words: string[]; json: boolean } | { whole: string } {
  const mod = ins as ModifiableInstruction & {
    getOpeningBracket?(): { getRange(): { start: { line: number; character: number } } } | null;
    getClosingBracket?(): { getRange(): { end: { line: number; character: number } } } | null;
    getHeredocs?(): Array<{ getName(): string; getStartRange(): { start: { line: number } } }>;
  };
  const open = mod.getOpeningBracket?.();
  const close = mod.getClosingBracket?.();
  if (open && close) {
    const raw = rawText({ start: open.getRange().start, end: close.getRange().end });
    const joined = raw
      .split('\n')
      .map((l) => (l.endsWith(escape) ? l.slice(0, -1) : l))
      .join('');
    try {
      const list = JSON.parse(joined) as unknown;
      if (Array.isArray(list) && list.every((s) => typeof s === 'string')) {
        if (list.length < 2) return { words: [], json: true };
        return { words: (list as string[]).slice(0, -1), json: true };
      }
    } catch {
      // not JSON: BuildKit reads it as shell form
    }
  }
  let args = mod.getArguments();
  const heredocs = mod.getHeredocs?.() ?? [];
  if (heredocs.length) {
    const last = Math.max(...heredocs.map((h) => h.getStartRange().start.line));
    if ((lines[last] ?? '').trimEnd().endsWith(escape)) return { whole: 'a heredoc line continued onto the next line' };
    args = args.filter((a) => a.getRange().start.line <= last);
  }
  // Raw text, so that expansion sees quotes and escape characters as BuildKit's lexer does.
  const words = args.map((a) => {
    const r = a.getRange();
    return r.start.line === r.end.line ? rawText(r) : a.getValue();
  });
  if (words.length < 2) return { words: [], json: false };
  return { words: words.slice(0, -1).filter((w) => !/^<<-?/.test(w)), json: false };
}

/**
 * A source as a context-relative pattern: cleaned against the context root (`/` and `..`
 * cannot leave it), cut before the first segment with `**`, a malformed class, or (when
 * the word had an escape character) any wildcard character. '' is the whole context.
 */
export function sourcePattern(source: string, hadEscape = false): string {
  const segs: string[] = [];
  for (const part of source.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      segs.pop();
      continue;
    }
    segs.push(part);
  }
  const kept: string[] = [];
  for (const seg of segs) {
    if (seg.includes('**') || (hadEscape && /[*?[\]\\]/.test(seg)) || !wellFormedClasses(seg)) break;
    kept.push(seg);
  }
  return kept.join('/');
}

/** Go `filepath.Match` classes in the plain shape `[^?chars]`; anything unusual is cut (over-selects). */
function wellFormedClasses(seg: string): boolean {
  return /^(?:[^[\]\\]|\[\^?[^\]\\!^[]+\])*$/.test(seg);
}
