/**
 * Our own log lines carry values from compose files, git and docker's output. A newline, carriage
 * return or ANSI escape inside such a value must not start a line of its own (that could pass for
 * Nx's output, say ` NX   Successfully ran target`) or redraw the terminal: control characters are
 * shown escaped, and every line of a message carries the task's prefix.
 */

/** C0 controls, DEL and C1 controls (CSI is \x9b). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this matches
export const CONTROL_CHARACTERS = /[\x00-\x1f\x7f-\x9f]/g;

export function hasControlCharacters(text: string): boolean {
  CONTROL_CHARACTERS.lastIndex = 0;
  return CONTROL_CHARACTERS.test(text);
}

/** Control characters as visible escapes: `\n`, `\r`, `\t`, `\x1b`. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\t'; // a tab cannot forge a line
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/**
 * A log function for one task: each line of a message is escaped and starts with `prefix`; a first
 * line that already names the task (`[api] …`, or a `[dry-run] …` command) is left as it is.
 */
export function prefixedLog(log: (line: string) => void, prefix: string): (text: string) => void {
  const named = (line: string) => line.startsWith(`${prefix} `) || line.startsWith('[dry-run] ');
  return (text) => {
    text.split(/\r?\n/).forEach((line, i) => log(i === 0 && named(line) ? escapeControls(line) : `${prefix} ${escapeControls(line)}`));
  };
}
