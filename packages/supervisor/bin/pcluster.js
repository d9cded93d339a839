#!/usr/bin/env -S node --
// `node --`: Node 20 otherwise reads an `--env-file` anywhere on the command line itself, and exits 9
// on a missing file before pcluster can name it.
// Committed plain JavaScript: npm links a package's bin at install time, before `tsc -b` has built dist/ in a
// fresh clone, and skips a bin whose file does not exist yet.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(`pcluster: ${cli.pathname} is not built yet; run "npm run build" in the pcluster repository\n`);
  process.exit(1);
}
await import(cli.href);
