import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './cluster-process.js';

export const DEPLOY = path.join(REPO_ROOT, 'examples/deploy');

/** Every document of every manifest (`*.yaml`) in examples/deploy/<dir>, as plain objects, with its file name. */
export function kubernetesDocs(dir = 'kubernetes'): { file: string; errors: unknown[]; doc: any }[] {
  const where = path.join(DEPLOY, dir);
  return readdirSync(where).filter((file) => file.endsWith('.yaml')).flatMap((file) =>
    parseAllDocuments(readFileSync(path.join(where, file), 'utf8')).map((doc) => ({ file, errors: doc.errors, doc: doc.toJS() })),
  );
}

/** The containers of every workload in the manifests (Deployment, StatefulSet, DaemonSet, Job, Pod). */
export function kubernetesContainers(dir = 'kubernetes'): { name: string; command: string[] | undefined; args: string[] | undefined }[] {
  return kubernetesDocs(dir).flatMap(({ doc }) => (doc?.kind === 'Pod' ? doc.spec : doc?.spec?.template?.spec)?.containers ?? []);
}

/** The value after `flag` in a container's args (`--workers 2` → '2'). */
export function flagValue(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at === -1 ? undefined : args[at + 1];
}

/** The CONNECTION LIMIT of the role that `examples/deploy/<file>` creates. */
export function roleConnectionLimit(file: string): number {
  const sql = readFileSync(path.join(DEPLOY, file), 'utf8');
  return Number(/^CREATE ROLE \S+ .*CONNECTION LIMIT (\d+)/m.exec(sql)?.[1] ?? NaN);
}

/** `key = value` lines of an ini file (PgBouncer's), without sections or `;` comments. */
export function iniSettings(text: string): Map<string, string> {
  return new Map(text.split('\n').flatMap((line) => {
    const match = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    return match === null ? [] : [[match[1]!, match[2]!] as [string, string]];
  }));
}

/** The argv a container runs: its command, then its args (with no command, the image's ENTRYPOINT would come first). */
export function containerArgv(container: { command?: string[] | undefined; args?: string[] | undefined }): string[] {
  return [...(container.command ?? []), ...(container.args ?? [])];
}

/** The `Key=value` settings of a systemd unit file (the last one wins, as for ExecStart= in a drop-in). */
export function systemdSettings(file: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const line of readFileSync(path.join(DEPLOY, file), 'utf8').split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match !== null) settings.set(match[1]!, match[2]!);
  }
  return settings;
}

/** A Dockerfile's instructions (keyword upper-cased, arguments as written), continuation lines joined, comments dropped. */
export function dockerfileInstructions(file: string): { keyword: string; args: string }[] {
  const text = readFileSync(path.join(DEPLOY, file), 'utf8').replace(/\\\n/g, ' ');
  return text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#')).map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
  });
}

/** An ExecStart= line as argv, without systemd's `-@:+!` prefixes (the unit quotes nothing). */
export const execStartArgv = (execStart: string): string[] => execStart.replace(/^[-@:+!]+/, '').trim().split(/\s+/);

const PACKAGE_RUNNERS = new Set(['npx', 'npm', 'pnpx', 'pnpm', 'yarn', 'bunx', 'corepack']);
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh']);
/** Programs that exec or wait for what follows their own options: the question is what they run. */
const PASS_THROUGH = new Set(['env', 'tini', 'dumb-init']);

/**
 * Why `argv` would not make pcluster the process that gets the stop signal, or undefined when it does. A package
 * runner exits at SIGTERM without waiting for pcluster (the container or unit then SIGKILLs the rest, cutting
 * in-flight requests); a shell keeps the signal to itself unless its script execs.
 */
export function wrapperIn(argv: readonly string[]): string | undefined {
  const [program, ...rest] = argv;
  if (program === undefined) return 'no command at all';
  const name = path.basename(program);
  if (PACKAGE_RUNNERS.has(name)) return `${name} stands between the signal and pcluster; run node_modules/.bin/pcluster or node itself`;
  if (PASS_THROUGH.has(name)) {
    const start = rest.findIndex((arg) => !arg.startsWith('-') && !arg.includes('='));
    return wrapperIn(start === -1 ? [] : rest.slice(start));
  }
  if (SHELLS.has(name)) {
    const flag = rest.findIndex((arg) => /^-[a-z]*c[a-z]*$/.test(arg));
    const script = flag === -1 ? undefined : rest[flag + 1];
    if (script === undefined) return `${name} runs a script that keeps the signal; exec pcluster instead`;
    const exec = /^\s*exec\s+(.*)$/s.exec(script);
    if (exec === null) return `${name} -c without exec keeps the signal; write "exec ..." or drop the shell`;
    return wrapperIn(exec[1]!.trim().split(/\s+/));
  }
  return undefined;
}
