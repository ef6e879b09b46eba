/**
 * Image references in a Dockerfile: what a build pulls (or takes from another service's
 * image) as opposed to its own stages. Pure: Dockerfile text and build args in, names out.
 *
 * Follows the BuildKit Dockerfile frontend: `ARG`s before the first `FROM` are the only
 * variables `FROM` sees (plus the automatic platform args when given); `--build-arg`s
 * override declared ARG defaults; stage names are case-insensitive; `FROM scratch` pulls
 * nothing; `COPY --from=<n>` / `--from=<stage>` and `RUN --mount=...,from=<stage>` refer to
 * stages, anything else there is an image (or a named build context).
 */
import { DockerfileParser, type Arg, type Dockerfile, type From, type Instruction, type ModifiableInstruction } from 'dockerfile-ast';
import { familiarRef, normalizeImageRef } from '../buildx/image-ref';

const KEYWORDS = new Set([
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
]);

/** Platform args BuildKit defines in the global scope without an ARG line. */
const AUTOMATIC_PLATFORM_ARGS = new Set([
  'BUILDPLATFORM',
  'BUILDOS',
  'BUILDARCH',
  'BUILDVARIANT',
  'TARGETPLATFORM',
  'TARGETOS',
  'TARGETARCH',
  'TARGETVARIANT',
]);

export interface DockerfileProblem {
  message: string;
  /** 1-based line number. */
  line: number;
}

export class DockerfileSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`Dockerfile line ${line}: ${reason}`);
    this.name = 'DockerfileSyntaxError';
  }
}

export type ParseDockerfileResult = { ok: true; dockerfile: Dockerfile } | { ok: false; error: DockerfileProblem };

const lineOf = (i: Instruction): number => i.getRange().start.line + 1;

/**
 * Parses with dockerfile-ast (which accepts anything) and then rejects what BuildKit would:
 * unknown instructions, instructions other than ARG before the first FROM, a missing FROM,
 * and FROM lines that are not `FROM [--flags] image [AS name]`.
 */
export function parseDockerfileSafe(text: string): ParseDockerfileResult {
  let dockerfile: Dockerfile;
  try {
    dockerfile = DockerfileParser.parse(text);
  } catch (err) {
    return { ok: false, error: { message: `cannot parse the Dockerfile: ${(err as Error).message}`, line: 1 } };
  }
  let sawFrom = false;
  for (const ins of dockerfile.getInstructions()) {
    const keyword = ins.getKeyword();
    if (!KEYWORDS.has(keyword)) {
      return { ok: false, error: { message: `unknown instruction: ${ins.getInstruction()}`, line: lineOf(ins) } };
    }
    if (keyword === 'FROM') {
      sawFrom = true;
      const args = ins.getArguments();
      if (args.length === 0) return { ok: false, error: { message: 'FROM requires an image', line: lineOf(ins) } };
      if (args.length !== 1 && !(args.length === 3 && args[1].getValue().toLowerCase() === 'as')) {
        return {
          ok: false,
          error: { message: 'FROM requires either one argument, or three: FROM <image> AS <name>', line: lineOf(ins) },
        };
      }
    } else if (!sawFrom && keyword !== 'ARG') {
      return {
        ok: false,
        error: { message: `${keyword} before the first FROM: only ARG may come before FROM`, line: lineOf(ins) },
      };
    }
  }
  if (!sawFrom) return { ok: false, error: { message: 'the Dockerfile has no FROM instruction', line: 1 } };
  return { ok: true, dockerfile };
}

const parseCache = new Map<string, ParseDockerfileResult>();
const PARSE_CACHE_LIMIT = 5000;

/** parseDockerfileSafe, memoised on the text: services sharing a Dockerfile parse it once per graph. */
export function parseDockerfileCached(text: string): ParseDockerfileResult {
  let parsed = parseCache.get(text);
  if (!parsed) {
    if (parseCache.size >= PARSE_CACHE_LIMIT) parseCache.clear();
    parsed = parseDockerfileSafe(text);
    parseCache.set(text, parsed);
  }
  return parsed;
}

/**
 * Facts of one instruction that depend on the Dockerfile text alone (its arguments, flags,
 * declarations, sources), worked out once per instruction. The parse is shared by every
 * service using that text (parseDockerfileCached), and dockerfile-ast recomputes these on
 * every call, which cost more than the rest of a read with other build args or platforms.
 * `fact` names what `compute` returns, the same name for the same computation; callers only
 * read what they get.
 */
const perInstruction = new WeakMap<Instruction, Map<string, unknown>>();
export function instructionFact<T>(ins: Instruction, fact: string, compute: () => T): T {
  let facts = perInstruction.get(ins);
  if (!facts) perInstruction.set(ins, (facts = new Map()));
  if (!facts.has(fact)) facts.set(fact, compute());
  return facts.get(fact) as T;
}

// ---------------------------------------------------------------------------------------
// Variable expansion (the BuildKit shell lexer's word rules that matter for image names)

type Lookup = (name: string) => string | undefined;

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/**
 * Expands `$X`, `${X}`, `${X:-w}`, `${X-w}`, `${X:+w}`, `${X+w}`, `${X:?m}`, `${X?m}`;
 * undefined variables expand to ''. With `quotes`, `'…'` is literal and `"…"` quotes are
 * removed. `escape` (`\` or the `# escape=` character) makes the next character literal.
 */
export function expandWord(word: string, lookup: Lookup, escape = '\\', quotes = true): string {
  let out = '';
  let i = 0;
  let inDouble = false;
  while (i < word.length) {
    const ch = word[i];
    if (ch === escape && i + 1 < word.length) {
      out += word[i + 1];
      i += 2;
    } else if (quotes && ch === "'" && !inDouble) {
      const end = word.indexOf("'", i + 1);
      if (end < 0) {
        out += word.slice(i + 1);
        break;
      }
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (quotes && ch === '"') {
      inDouble = !inDouble;
      i++;
    } else if (ch === '$' && i + 1 < word.length && word[i + 1] === '{') {
      let depth = 1;
      let j = i + 2;
      while (j < word.length && depth > 0) {
        if (word[j] === escape) j++;
        else if (word[j] === '{') depth++;
        else if (word[j] === '}') depth--;
        j++;
      }
      const body = word.slice(i + 2, depth === 0 ? j - 1 : j);
      out += expandBraced(body, lookup, escape);
      i = j;
    } else if (ch === '$' && i + 1 < word.length && NAME_START.test(word[i + 1])) {
      let j = i + 1;
      while (j < word.length && NAME_CHAR.test(word[j])) j++;
      out += lookup(word.slice(i + 1, j)) ?? '';
      i = j;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

function expandBraced(body: string, lookup: Lookup, escape: string): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([\s\S]*))?$/.exec(body);
  if (!m) return '';
  const [, name, op, rest = ''] = m;
  const value = lookup(name);
  const word = (): string => expandWord(rest, lookup, escape, false);
  switch (op) {
    case undefined:
      return value ?? '';
    case ':-':
      return value === undefined || value === '' ? word() : value;
    case '-':
      return value === undefined ? word() : value;
    case ':+':
      return value === undefined || value === '' ? '' : word();
    case '+':
      return value === undefined ? '' : word();
    default: // ':?' / '?': an error in BuildKit when unset; keep what is known
      return value ?? '';
  }
}

// ---------------------------------------------------------------------------------------

export interface DockerfileRefs {
  /**
   * Images the build uses (FROM, COPY --from, RUN --mount from=), expanded, first-seen order,
   * deduplicated: those of the target stage and the stages it reaches only, since BuildKit
   * never resolves an image of a stage the build does not reach.
   */
  images: string[];
  /** Stage names (`AS name`), lower-cased as BuildKit does, in order. */
  stages: string[];
}

function argProperties(ins: Instruction): Array<{ name: string; value: string | null }> {
  return (ins as Arg).getProperties().map((p) => ({ name: p.getName(), value: p.getValue() }));
}

/**
 * The stage a build runs last: the one named `target` (case-insensitive), else the last.
 * `stageNames` has one entry per FROM ('' for a stage without a name). Undefined when
 * `target` names no stage (BuildKit fails such a build).
 */
export function targetStageIndex(stageNames: readonly string[], target: string | undefined): number | undefined {
  if (target === undefined || target === '') return stageNames.length - 1;
  const i = stageNames.indexOf(target.toLowerCase());
  return i < 0 ? undefined : i;
}

/** The stages a build of `target` runs: it and every stage it reaches through `depsOf`, in index order. */
export function reachedStages(target: number, depsOf: (stage: number) => Iterable<number>): number[] {
  const reached = new Set<number>();
  const stack = [target];
  while (stack.length) {
    const i = stack.pop() as number;
    if (reached.has(i)) continue;
    reached.add(i);
    for (const d of depsOf(i)) stack.push(d);
  }
  return [...reached].sort((a, b) => a - b);
}

/**
 * The named context (additional_contexts key) a Dockerfile reference means, if any: BuildKit
 * looks a `FROM`, `--from` or stage name up among the named contexts by its familiar form
 * (`docker.io/library/alpine:latest` is `alpine`).
 */
export function namedContextLookup(namedContexts: readonly string[]): (ref: string) => string | undefined {
  if (namedContexts.length === 0) return () => undefined;
  const byKey = new Map<string, string>();
  for (const name of namedContexts) {
    byKey.set(name, name);
    const n = normalizeImageRef(name);
    if (n) byKey.set(familiarRef(n), name);
  }
  return (ref) => {
    if (byKey.has(ref)) return byKey.get(ref);
    const n = normalizeImageRef(ref);
    return n ? byKey.get(familiarRef(n)) : undefined;
  };
}

/** A stage BuildKit replaces by the named context of its name (`scratch` and `context` never are). */
export function replacingContexts(
  stageNames: readonly string[],
  namedContextOf: (ref: string) => string | undefined,
): (string | undefined)[] {
  return stageNames.map((n) => (n === '' || n === 'scratch' || n === 'context' ? undefined : namedContextOf(n)));
}

interface StageImages {
  images: string[];
  deps: Set<number>;
  /** A `--from` whose value is not known: which stage it means is not known either. */
  unresolved: boolean;
}

/**
 * Image references of a build of `text`. `args` are the service's build args (they override
 * ARG defaults; automatic platform args such as TARGETARCH count only when given here);
 * `target` the stage built (default: the last); `namedContexts` the service's
 * additional_contexts keys: a reference naming one is no image, and the FROM image of a stage
 * named after one is not resolved (the context replaces it). When a reached stage has a `--from`
 * without a known value, or `target` names no stage, every stage's images count
 * (over-selects). Throws DockerfileSyntaxError (with a line) on input BuildKit would reject.
 */
export function dockerfileRefs(
  text: string,
  args: Readonly<Record<string, string>> = {},
  target?: string,
  namedContexts: readonly string[] = [],
): DockerfileRefs {
  const parsed = parseDockerfileCached(text);
  if (!parsed.ok) throw new DockerfileSyntaxError(parsed.error.line, parsed.error.message);
  const df = parsed.dockerfile;
  const escape = df.getEscapeCharacter();
  const has = (name: string) => Object.prototype.hasOwnProperty.call(args, name);

  const instructions = df.getInstructions();
  // Every stage name, for --from lookups that may point forward.
  const stageNames: string[] = [];
  for (const ins of instructions) {
    if (ins.getKeyword() !== 'FROM') continue;
    const a = instructionFact(ins, 'arguments', () => ins.getArguments());
    stageNames.push(a.length === 3 ? a[2].getValue().toLowerCase() : '');
  }
  const allStages = stageNames.filter((n) => n !== '');
  const namedContextOf = namedContextLookup(namedContexts);
  const replacedBy = replacingContexts(stageNames, namedContextOf);

  const global = new Map<string, string | undefined>();
  const globalLookup: Lookup = (name) => (global.has(name) ? global.get(name) : AUTOMATIC_PLATFORM_ARGS.has(name) ? args[name] : undefined);
  let scope: Map<string, string | undefined> | undefined;
  const stageLookup: Lookup = (name) => scope?.get(name);
  const stages: StageImages[] = [];
  let stage: StageImages | undefined;

  // `--from=<index>` or `--from=<stage name>` (forward references included) is a stage.
  const stageOf = (ref: string): number | undefined => {
    if (/^\d+$/.test(ref)) return Number(ref);
    const i = stageNames.indexOf(ref.toLowerCase());
    return i < 0 ? undefined : i;
  };
  const fromRef = (s: StageImages, ref: string) => {
    if (ref === '') s.unresolved = true;
    else if (stageOf(ref) !== undefined) s.deps.add(stageOf(ref) as number);
    else if (namedContextOf(ref) === undefined) s.images.push(ref);
  };

  for (const ins of instructions) {
    const keyword = ins.getKeyword();
    if (keyword === 'ARG') {
      for (const { name, value } of instructionFact(ins, 'argProperties', () => argProperties(ins))) {
        if (scope === undefined) {
          global.set(name, has(name) ? args[name] : value === null ? undefined : expandWord(value, globalLookup, escape, false));
        } else {
          const v = has(name) ? args[name] : value !== null ? expandWord(value, stageLookup, escape, false) : global.get(name);
          scope.set(name, v);
        }
      }
    } else if (keyword === 'FROM') {
      const a = instructionFact(ins, 'arguments', () => (ins as From).getArguments());
      const ref = expandWord(a[0].getValue(), globalLookup, escape);
      const lower = ref.toLowerCase();
      // FROM names an earlier stage only (BuildKit's findStateByName over the stages before it).
      const base = stageNames.slice(0, stages.length).indexOf(lower);
      const replaced = replacedBy[stages.length] !== undefined;
      stage = { images: [], deps: new Set(), unresolved: false };
      // A replaced stage's FROM image is never resolved; its base stage and its --from images
      // still are (BuildKit walks them before it swaps the context in: checked on the stack).
      if (lower !== '' && base >= 0) stage.deps.add(base);
      else if (!replaced && lower !== 'scratch' && lower !== '' && namedContextOf(ref) === undefined) stage.images.push(ref);
      stages.push(stage);
      scope = new Map();
    } else if (!stage) {
      continue;
    } else if (keyword === 'COPY') {
      for (const flag of instructionFact(ins, 'flags', () => (ins as ModifiableInstruction).getFlags())) {
        if (flag.getName() !== 'from') continue;
        fromRef(stage, expandWord(flag.getValue() ?? '', stageLookup, escape));
      }
    } else if (keyword === 'RUN') {
      for (const flag of instructionFact(ins, 'flags', () => (ins as ModifiableInstruction).getFlags())) {
        if (flag.getName() !== 'mount') continue;
        const opts = new Map(flag.getOptions().map((o) => [o.getName().toLowerCase(), o.getValue() ?? ''] as const));
        const type = (opts.get('type') ?? 'bind').toLowerCase();
        if (!opts.has('from') || !(type === 'bind' || type === 'cache')) continue;
        fromRef(stage, expandWord(opts.get('from') as string, stageLookup, escape));
      }
    }
  }

  const last = targetStageIndex(stageNames, target);
  let built = last === undefined ? stages.map((_, i) => i) : reachedStages(last, (i) => stages[i]?.deps ?? []);
  if (built.some((i) => stages[i]?.unresolved)) built = stages.map((_, i) => i);
  // First-seen order across the stages built, as written top to bottom.
  const images = [...new Set(built.flatMap((i) => stages[i].images))];
  return { images, stages: allStages };
}

/**
 * Convenience for graph building: the image refs of a Dockerfile, [] when there is no
 * Dockerfile text (inline-less remote context) or when BuildKit would reject it. Report
 * such a Dockerfile through parseDockerfileSafe; the build itself fails with BuildKit's error.
 */
export function dockerfileImageRefs(
  text: string | undefined,
  args: Readonly<Record<string, string>> = {},
  target?: string,
  namedContexts: readonly string[] = [],
): string[] {
  if (text === undefined) return [];
  try {
    return dockerfileRefs(text, args, target, namedContexts).images;
  } catch (err) {
    if (err instanceof DockerfileSyntaxError) return [];
    throw err;
  }
}
