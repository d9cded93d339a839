import { expect } from 'chai';
import { LineSplitter } from 'pcluster/internal/line-splitter';

/** Feeds `chunks` through a splitter and returns what it emitted, ended or not. */
function split(chunks: (string | Buffer)[], maxLineLength = 1_000, end = true): [string, boolean][] {
  const lines: [string, boolean][] = [];
  const splitter = new LineSplitter(maxLineLength, (line, isWhole) => lines.push([line, isWhole]));
  for (const chunk of chunks) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  if (end) splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it('joins a line written in several chunks and keeps a partial one until its newline or the end', () => {
    expect(split(['one\ntw', 'o\nthr'], 1_000, false)).to.deep.equal([['one', true], ['two', true]]);
    expect(split(['one\ntw', 'o\nthr'])).to.deep.equal([['one', true], ['two', true], ['thr', true]]);
    expect(split(['a\r\n', '\n', '\r\n', 'b'])).to.deep.equal([['a', true], ['b', true]]);
  });

  it('joins a character split between chunks, and turns bytes that are not UTF-8 into U+FFFD', () => {
    const euro = Buffer.from('€\n');
    expect(split([euro.subarray(0, 1), euro.subarray(1, 2), euro.subarray(2)])).to.deep.equal([['€', true]]);
    expect(split([Buffer.from([0x61, 0xff, 0x00, 0x0a])])).to.deep.equal([['a\ufffd\u0000', true]]);
  });

  it('cuts an overlong line into pieces, none of them whole, without splitting a surrogate pair', () => {
    expect(split(['abcdefg\nhi\n'], 3)).to.deep.equal([['abc', false], ['def', false], ['g', false], ['hi', true]]);
    // Without a newline in sight the buffer is cut as it grows, not only when the line ends.
    expect(split(['abcd', 'efgh'], 3, false)).to.deep.equal([['abc', false], ['def', false]]);
    expect(split(['abcd', 'efgh\n', 'x\n'], 3)).to.deep.equal([['abc', false], ['def', false], ['gh', false], ['x', true]]);
    expect(split(['a😀b\n'], 2)).to.deep.equal([['a', false], ['😀', false], ['b', false]]);
  });
});
