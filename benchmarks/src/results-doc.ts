import { readFileSync, writeFileSync } from 'node:fs';

const START = '<!-- bench:start: written by `npm run bench`; edit outside these markers -->';
const END = '<!-- bench:end -->';

/**
 * Replaces the generated section of RESULTS.md (between the markers) with `section`;
 * the first time, inserts it before the first `## ` heading so the hand-written sections stay.
 */
export function updateResultsDoc(file: string, section: string): void {
  const doc = readFileSync(file, 'utf8');
  const block = `${START}\n${section.trim()}\n${END}`;
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  let updated: string;
  if (start >= 0 && end > start) {
    updated = doc.slice(0, start) + block + doc.slice(end + END.length);
  } else {
    const firstHeading = doc.search(/^## /m);
    updated = firstHeading < 0 ? `${doc.trimEnd()}\n\n${block}\n` : `${doc.slice(0, firstHeading)}${block}\n\n${doc.slice(firstHeading)}`;
  }
  writeFileSync(file, updated);
}
