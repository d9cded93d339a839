import { closest, distance } from 'fastest-levenshtein';

/** The `--name` flags in `args` (before a `--`) that are not among `known` (long names and aliases, without dashes). */
export function unknownFlags(args: readonly string[], known: readonly string[]): string[] {
  const names = new Set(known);
  const unknown: string[] = [];
  for (const arg of args) {
    if (arg === '--') break;
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2).split('=')[0]!;
    if (!names.has(name) && !(name.startsWith('no-') && names.has(name.slice(3)))) unknown.push(name);
  }
  return unknown;
}

/** The known long flag closest to `name`, when it is close enough to be a typo of it (as yargs' recommendCommands judges commands). */
export function closestFlag(name: string, known: readonly string[]): string | undefined {
  const candidates = known.filter((flag) => flag.length > 1);
  if (candidates.length === 0) return undefined;
  const match = closest(name, candidates);
  return distance(name, match) <= Math.min(3, Math.ceil(name.length / 2)) ? match : undefined;
}

/** "did you mean --workers?" for the first mistyped flag in `args`, or undefined when none looks like a known one. */
export function suggestFlag(args: readonly string[], known: readonly string[]): string | undefined {
  for (const name of unknownFlags(args, known)) {
    const match = closestFlag(name, known);
    if (match !== undefined) return `did you mean --${match}?`;
  }
  return undefined;
}
