import { isMap, isSeq, parseDocument, type Document } from 'yaml';

export class ComposeEditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ComposeEditError';
  }
}

function parseCompose(text: string, path: string): Document.Parsed {
  const doc = parseDocument(text);
  if (doc.errors.length) {
    throw new ComposeEditError(`${path} is not valid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
  }
  return doc;
}

/**
 * Adds `services.<name>` to a compose file's text with the yaml Document API, so the file's comments,
 * anchors and formatting are kept. Creates the document when text is undefined or empty.
 * `flowLists` names the paths inside the entry written in flow style (`[a, b]`).
 */
export function addComposeService(
  text: string | undefined,
  name: string,
  entry: Record<string, unknown>,
  opts: { path?: string; flowLists?: string[][] } = {},
): string {
  const path = opts.path ?? 'compose file';
  const doc = text?.trim() ? parseCompose(text, path) : parseDocument(text ?? '');
  if (doc.contents !== null && doc.contents !== undefined && !isMap(doc.contents)) {
    throw new ComposeEditError(`${path}: the top level is not a mapping`);
  }
  let services = doc.get('services', true);
  if (services === undefined || services === null || (!isMap(services) && (services as { value?: unknown }).value === null)) {
    doc.set('services', doc.createNode({}));
    services = doc.get('services', true);
  }
  if (!isMap(services)) throw new ComposeEditError(`${path}: "services" is not a mapping`);
  if (services.has(name)) throw new ComposeEditError(`${path} already has a service named "${name}"`);
  // `services: {}` is a flow map: the new entry would be written inline, as one long line.
  if (services.flow && services.items.length === 0) services.flow = false;
  const node = doc.createNode(entry);
  for (const p of opts.flowLists ?? []) {
    const list = node.getIn(p, true);
    if (isSeq(list)) list.flow = true;
  }
  services.set(doc.createNode(name), node);
  const out = doc.toString({ lineWidth: 0 });
  return out;
}
