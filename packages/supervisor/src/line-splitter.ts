import { StringDecoder } from 'node:string_decoder';

/**
 * Cuts a byte stream into text lines: a line written in several chunks comes out whole, a character split
 * between chunks is joined, bytes that are not UTF-8 become U+FFFD, and a line longer than `maxLineLength`
 * comes out in pieces of that length (so output without newlines cannot grow the buffer without bound).
 * Empty lines are dropped; a trailing `\r` is removed.
 */
export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  readonly #maxLineLength: number;
  readonly #emit: (line: string, isWhole: boolean) => void;
  #pending = '';
  /** Whether pieces of the pending line went out already: its end is then a piece too, not a whole line. */
  #isCut = false;

  /** `emit` gets each line, and whether it is a whole line (false for a piece of an overlong one). */
  constructor(maxLineLength: number, emit: (line: string, isWhole: boolean) => void) {
    this.#maxLineLength = Math.max(2, maxLineLength);
    this.#emit = emit;
  }

  push(chunk: Buffer): void {
    this.#take(this.#decoder.write(chunk));
  }

  /** The stream ended: what is left is a last line without its newline. */
  end(): void {
    this.#take(this.#decoder.end());
    const rest = this.#pending;
    this.#pending = '';
    this.#line(rest);
  }

  #take(text: string): void {
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      const line = this.#pending + text.slice(start, newline);
      this.#pending = '';
      start = newline + 1;
      this.#line(line);
    }
    this.#pending += text.slice(start);
    while (this.#pending.length > this.#maxLineLength) this.#pending = this.#pending.slice(this.#cut(this.#pending));
  }

  #line(line: string): void {
    let text = line.endsWith('\r') ? line.slice(0, -1) : line;
    while (text.length > this.#maxLineLength) text = text.slice(this.#cut(text));
    if (text.length > 0) this.#emit(text, !this.#isCut);
    this.#isCut = false;
  }

  /** Emits the first piece of an overlong `text`; returns its length (a surrogate pair is never split). */
  #cut(text: string): number {
    const code = text.charCodeAt(this.#maxLineLength - 1);
    const length = code >= 0xd800 && code <= 0xdbff ? this.#maxLineLength - 1 : this.#maxLineLength;
    this.#emit(text.slice(0, length), false);
    this.#isCut = true;
    return length;
  }
}
