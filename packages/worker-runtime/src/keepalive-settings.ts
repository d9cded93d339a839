/**
 * TCP keepalives on both ends of a worker's connection, from --keepalive-timeout (SPEC §6): a peer
 * cut off by a partition is dropped within that time, so the server frees the slot for other hosts.
 */

/** Unanswered probes before the peer is given up on (fewer when the timeout is too short for them). */
const PROBES = 3;

export interface KeepaliveSettings {
  /** The client socket's first probe after this much idle time (node-postgres `keepAliveInitialDelayMillis`). */
  readonly clientIdleMs: number;
  /**
   * The server's side, per session: idle time, then PROBES probes `interval` apart (all in seconds), so an idle
   * backend whose client is gone ends within the timeout; `tcp_user_timeout` (ms) does the same while it has
   * unacknowledged data to send (a reply the partition swallowed), where keepalives do not run.
   */
  readonly serverSession: {
    readonly tcp_keepalives_idle: string;
    readonly tcp_keepalives_interval: string;
    readonly tcp_keepalives_count: string;
    readonly tcp_user_timeout: string;
  };
}

/** The keepalive settings that give up on a silent peer within `timeoutMs` (at least 2 s; the kernel counts whole seconds). */
export function keepaliveSettings(timeoutMs: number): KeepaliveSettings {
  const timeoutS = Math.max(2, Math.floor(timeoutMs / 1000));
  // Half the time idle, the other half for the probes, each at least 1 s apart.
  const idleS = Math.floor(timeoutS / 2);
  const probes = Math.min(PROBES, timeoutS - idleS);
  const intervalS = Math.floor((timeoutS - idleS) / probes);
  return {
    clientIdleMs: idleS * 1000,
    serverSession: {
      tcp_keepalives_idle: String(idleS),
      tcp_keepalives_interval: String(intervalS),
      tcp_keepalives_count: String(probes),
      tcp_user_timeout: String(timeoutS * 1000),
    },
  };
}
