export interface ServerArgsInput {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly socketDir: string;
  readonly maxConnections: number;
  readonly settings: Readonly<Record<string, string>>;
}

/** The postgres command line: our address and socket, throwaway-data tuning, then the caller's settings (later -c wins). */
export function serverArgs(input: ServerArgsInput): string[] {
  const settings = {
    listen_addresses: input.host,
    max_connections: String(input.maxConnections),
    // Throwaway data: durability traded for speed.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...input.settings,
  };
  const settingArgs = Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  return ['-D', input.dataDir, '-p', String(input.port), '-k', input.socketDir, ...settingArgs];
}
