export interface ServerArgsInput {
  readonly dataDir: string;
  /** A temp cluster removed by destroy(): only then is durability traded for speed. */
  readonly isTemporary: boolean;
  readonly host: string;
  readonly port: number;
  readonly socketDir: string;
  readonly maxConnections: number;
  readonly settings: Readonly<Record<string, string>>;
}

/** What PostgreSQL relies on to survive a crash; all on by default. */
export const DURABILITY_SETTINGS = ['fsync', 'synchronous_commit', 'full_page_writes'] as const;

// Throwaway data only: a crash may corrupt the cluster, which nobody keeps anyway.
const THROWAWAY_SETTINGS = Object.fromEntries(DURABILITY_SETTINGS.map((name) => [name, 'off']));

/**
 * The postgres command line: our address and socket, throwaway-data tuning for a temp cluster
 * (a kept data dir runs PostgreSQL's durable defaults), then the caller's settings (later -c wins).
 */
export function serverArgs(input: ServerArgsInput): string[] {
  const settings = {
    listen_addresses: input.host,
    max_connections: String(input.maxConnections),
    ...(input.isTemporary ? THROWAWAY_SETTINGS : {}),
    ...input.settings,
  };
  const settingArgs = Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  return ['-D', input.dataDir, '-p', String(input.port), '-k', input.socketDir, ...settingArgs];
}
