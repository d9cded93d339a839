#!/usr/bin/env node
// Packs `pcluster` into ONE tarball that installs on its own: `npm install pcluster-<version>.tgz`.
//
//   npm run pack [-- <destination>] [-- --with-runtime]
//   node scripts/pack.mjs [<destination>] [--with-runtime]
//
// <destination> is the directory the tarball is written to (created if missing; default: the directory the command
// was run from). It prints the path of each tarball it wrote, one a line, on stdout.
//
// Why a script: pcluster depends on @pcluster/worker-runtime, which is not on a registry, so the pcluster tarball
// must carry it (`bundleDependencies`). But `npm pack` of a workspace package comes out without its node_modules
// (the workspace's dependencies are hoisted/linked at the repository root), so the bundle would be empty. This
// script therefore stages a plain, non-workspace copy of the package with the runtime as a real directory in
// its node_modules, and packs that.
//
// Where npm puts a bundled dependency: inside the package that bundles it, i.e. the app gets
// node_modules/pcluster/node_modules/@pcluster/worker-runtime. That is the copy the workers run (pcluster
// resolves the worker entry from its own dist/). npm never hoists a bundled package, so the APP itself cannot
// `import { db } from '@pcluster/worker-runtime'` from it: an app that uses `db` (rather than `req.db` or its own
// `pg`) also installs the runtime tarball, which `--with-runtime` writes beside the pcluster one.
//
// Plain Node, no dependencies: it runs before anything but the repository's own node_modules exists.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNTIME = '@pcluster/worker-runtime';

const args = process.argv.slice(2);
const withRuntime = args.includes('--with-runtime');
const unknown = args.filter((arg) => arg.startsWith('-') && arg !== '--with-runtime');
const positional = args.filter((arg) => !arg.startsWith('-'));
if (unknown.length > 0 || positional.length > 1) {
  process.stderr.write(`usage: node scripts/pack.mjs [<destination directory>] [--with-runtime]\n`);
  process.exit(2);
}
// Under `npm run`, the working directory is the repository root; INIT_CWD is where the user typed the command.
const destination = path.resolve(process.env.INIT_CWD ?? process.cwd(), positional[0] ?? '.');

/**
 * The environment without npm's npm_* variables: under `npm run`, npm_config_local_prefix (and others) point at the
 * monorepo root, which would make the nested `npm pack` in the staging directory treat the monorepo as its project.
 */
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));

/** Runs a command, its output going to our stderr (stdout is kept for the tarball paths); returns its stdout when `capture`. */
function run(command, commandArgs, { cwd = ROOT, capture = false } = {}) {
  return execFileSync(command, commandArgs, { cwd, env, encoding: 'utf8', stdio: ['ignore', capture ? 'pipe' : process.stderr, 'inherit'] });
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

// 1. Build both packages (the runtime through the supervisor's project reference). Lifecycle scripts are skipped
//    from here on (--ignore-scripts): each package's `prepack` would only run this build again.
run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-b', 'packages/supervisor']);

// 2. Ask npm which files each package's tarball holds (its `files`, package.json, README…), so that the staged
//    copies contain exactly what `npm pack` of each would.
const dryRun = JSON.parse(run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '-w', 'packages/worker-runtime', '-w', 'packages/supervisor'], { capture: true }));
const filesOf = (name) => {
  const entry = dryRun.find((pack) => pack.name === name);
  if (entry === undefined) throw new Error(`npm pack --dry-run listed no package named ${name}`);
  return entry.files.map((file) => file.path);
};

const staging = mkdtempSync(path.join(os.tmpdir(), 'pcluster-pack-'));
try {
  // 3. Stage: <staging>/pcluster is the supervisor package, with the runtime as a real directory in its node_modules.
  const stage = path.join(staging, 'pcluster');
  const copy = (fromDir, files, toDir) => {
    for (const file of files) cpSync(path.join(fromDir, file), path.join(toDir, file), { dereference: true });
  };
  copy(path.join(ROOT, 'packages', 'supervisor'), filesOf('pcluster'), stage);
  copy(path.join(ROOT, 'packages', 'worker-runtime'), filesOf(RUNTIME), path.join(stage, 'node_modules', RUNTIME));

  // 4. The staged package.json: bundle the runtime, and declare the runtime's own dependencies too.
  const manifestFile = path.join(stage, 'package.json');
  const manifest = readJson(manifestFile);
  const runtime = readJson(path.join(stage, 'node_modules', RUNTIME, 'package.json'));
  if (manifest.dependencies?.[RUNTIME] !== runtime.version) {
    // A bundled copy that does not match the declared version would send npm to the registry for the right one.
    throw new Error(`pcluster depends on ${RUNTIME}@${manifest.dependencies?.[RUNTIME]}, but the runtime is ${runtime.version}`);
  }
  manifest.bundleDependencies = [RUNTIME];
  // npm does not install the dependencies of a bundled package (it expects a bundle to carry its own node_modules).
  // Declaring them on pcluster instead has npm install them next to pcluster, where the bundled runtime finds them
  // by walking up node_modules directories (today that adds pino-pretty; pg, pino and prom-client are shared).
  for (const [name, range] of Object.entries(runtime.dependencies ?? {})) {
    const declared = manifest.dependencies[name];
    if (declared !== undefined && declared !== range) throw new Error(`pcluster wants ${name}@${declared}, ${RUNTIME} wants ${name}@${range}: align them`);
    manifest.dependencies[name] = range;
  }
  // The staged copy is already built: drop the build-on-pack scripts (they would run tsc outside the repository).
  for (const script of ['prepack', 'prepare', 'postpack']) delete manifest.scripts?.[script];
  if (manifest.scripts !== undefined && Object.keys(manifest.scripts).length === 0) delete manifest.scripts;
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);

  // 5. Pack the staged copy, and check that the runtime went into the tarball.
  mkdirSync(destination, { recursive: true });
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], { cwd: stage, capture: true }));
  if (!packed.bundled.includes(RUNTIME) || !packed.files.some((file) => file.path === `node_modules/${RUNTIME}/dist/worker-main.js`)) {
    throw new Error(`${packed.filename} came out without ${RUNTIME} bundled`);
  }
  const written = [path.join(destination, packed.filename)];

  // 6. Optionally the runtime's own tarball, for apps that `import { db } from '@pcluster/worker-runtime'`.
  if (withRuntime) {
    const [runtimePack] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '-w', 'packages/worker-runtime', '--pack-destination', destination], { capture: true }));
    written.push(path.join(destination, runtimePack.filename));
  }
  process.stdout.write(`${written.join('\n')}\n`);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
