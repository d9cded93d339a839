/**
 * What a statement's SQL text can do to the connection's transaction state, read from its first keyword:
 * - `transaction-control`: it can open or end a transaction (BEGIN, COMMIT, SAVEPOINT, CALL, DO, …);
 * - `single`: one statement of a kind that cannot (SELECT, INSERT, UPDATE, DELETE, WITH, …);
 * - `other`: anything else, or text this reading cannot vouch for (several statements, an unknown keyword).
 * The pipeline writes only `single` statements (and parameterised ones, which the extended protocol
 * keeps to one statement) without waiting; the rest are barriers (SPEC §3).
 */
export type StatementKind = 'transaction-control' | 'single' | 'other';

const TRANSACTION_CONTROL: ReadonlySet<string> = new Set([
  'begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release', 'prepare', 'call', 'do',
]);
const CANNOT_CONTROL_TRANSACTIONS: ReadonlySet<string> = new Set([
  'select', 'insert', 'update', 'delete', 'with', 'values', 'table', 'merge', 'show', 'explain',
]);

/** Index of the first character after leading white space, comments (nested, as PostgreSQL nests them) and `(`; -1 for an unclosed comment. */
function skipLeading(text: string): number {
  let at = 0;
  while (at < text.length) {
    const char = text[at]!;
    if (char === '(' || char === ' ' || char === '\t' || char === '\n' || char === '\r' || char === '\f') {
      at += 1;
    } else if (text.startsWith('--', at)) {
      const end = text.indexOf('\n', at);
      at = end < 0 ? text.length : end + 1;
    } else if (text.startsWith('/*', at)) {
      let depth = 0;
      do {
        if (text.startsWith('/*', at)) {
          depth += 1;
          at += 2;
        } else if (text.startsWith('*/', at)) {
          depth -= 1;
          at += 2;
        } else if (at >= text.length) {
          return -1;
        } else {
          at += 1;
        }
      } while (depth > 0);
    } else {
      break;
    }
  }
  return at;
}

/** The statement's first keyword, lower case; '' when there is none to read. */
export function firstKeyword(text: string): string {
  const at = skipLeading(text);
  if (at < 0) return '';
  const match = /^[A-Za-z_]+/.exec(text.slice(at, at + 32));
  return match === null ? '' : match[0].toLowerCase();
}

/**
 * True when the text holds no `;` but trailing ones. A `;` inside a string literal or a comment
 * also counts as a second statement: the reading errs towards a barrier, never away from one.
 */
function isOneStatement(text: string): boolean {
  let end = text.length;
  while (end > 0 && /[\s;]/.test(text[end - 1]!)) end -= 1;
  return text.lastIndexOf(';', end - 1) < 0;
}

/** Classifies SQL text as the pipeline needs it (see StatementKind). */
export function statementKind(text: string): StatementKind {
  const keyword = firstKeyword(text);
  if (TRANSACTION_CONTROL.has(keyword)) return 'transaction-control';
  return CANNOT_CONTROL_TRANSACTIONS.has(keyword) && isOneStatement(text) ? 'single' : 'other';
}
