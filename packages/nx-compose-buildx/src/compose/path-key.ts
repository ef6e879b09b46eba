/** How a parsed compose file keys the line of each path (YamlSource.lines): its parts joined by NUL. */
export type PathPart = string | number;

export function pathKey(path: readonly PathPart[]): string {
  return path.join('\u0000');
}

/** pathKey of the path one part deeper, built from the parent's key (undefined at the top) rather than an array per node. */
export function childKey(parent: string | undefined, part: PathPart): string {
  return parent === undefined ? String(part) : `${parent}\u0000${part}`;
}
