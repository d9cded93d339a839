import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { isAlive, killAll, processTree, waitForExit } from './process-tree.js';

const PM2_CLI = path.join(path.dirname(createRequire(import.meta.url).resolve('pm2/package.json')), 'bin', 'pm2');

/**
 * A PM2 daemon of our own, driven through PM2's CLI with PM2_HOME in a fresh temp dir: it
 * never touches a user's ~/.pm2 or daemon, and kill() leaves no process and no file behind.
 * (The CLI, not the programmatic API: after `reload`, the API's client keeps reconnecting
 * to the killed daemon and holds this process open.)
 */
export class PrivatePm2 {
  readonly home: string;
  readonly daemonPid: number;
  #known: number[];

  private constructor(home: string, daemonPid: number) {
    this.home = home;
    this.daemonPid = daemonPid;
    this.#known = [daemonPid];
  }

  /** Spawns the daemon (`pm2 ping`) and resolves once it answers. */
  static async launch(): Promise<PrivatePm2> {
    const home = mkdtempSync(path.join(os.tmpdir(), 'pcluster-bench-pm2-'));
    try {
      await pm2(home, ['ping']);
      const daemonPid = readDaemonPid(home);
      if (daemonPid === undefined) throw new Error(`pm2 ping started no daemon (no pid file in ${home})`);
      return new PrivatePm2(home, daemonPid);
    } catch (error) {
      const daemonPid = readDaemonPid(home);
      if (daemonPid !== undefined) killAll(await processTree(daemonPid));
      rmSync(home, { recursive: true, force: true });
      throw error;
    }
  }

  /** `pm2 start <ecosystem file>` with one app; with `wait_ready` it returns once every instance sent 'ready'. */
  async start(app: Record<string, unknown>): Promise<void> {
    const file = path.join(this.home, 'bench.config.json');
    writeFileSync(file, JSON.stringify({ apps: [app] }), { mode: 0o600 });
    await this.run(['start', file]);
    this.#known = await processTree(this.daemonPid);
  }

  /** `pm2 jlist`: the status of every instance. */
  async statuses(): Promise<string[]> {
    const list = JSON.parse(await this.run(['jlist'])) as { pm2_env: { status: string } }[];
    return list.map((proc) => proc.pm2_env.status);
  }

  /** `pm2 reload <name>`: returns once PM2 has replaced every instance. */
  async reload(name: string): Promise<void> {
    await this.run(['reload', name]);
    this.#known = await processTree(this.daemonPid);
  }

  /** Runs a PM2 CLI command against this daemon; resolves with its stdout. */
  run(args: readonly string[]): Promise<string> {
    return pm2(this.home, args);
  }

  pids(): readonly number[] {
    return this.#known;
  }

  /** `pm2 kill`: stops the apps and the daemon; SIGKILLs whatever is left; removes PM2_HOME. */
  async kill(): Promise<void> {
    const known = [...new Set([...this.#known, ...(isAlive(this.daemonPid) ? await processTree(this.daemonPid) : [])])];
    await this.run(['kill']).catch(() => {});
    if (!(await waitForExit(known, 5_000))) {
      killAll(known);
      await waitForExit(known, 5_000);
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}

function readDaemonPid(home: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(home, 'pm2.pid'), 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function pm2(home: string, args: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [PM2_CLI, ...args], {
    env: { ...process.env, PM2_HOME: home },
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  return stdout;
}
