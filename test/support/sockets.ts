import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const TCP_STATES: Record<string, string> = { '01': 'ESTABLISHED', '06': 'TIME_WAIT', '08': 'CLOSE_WAIT', '0A': 'LISTEN' };

/** The states of the TCP sockets process `pid` holds open (from /proc), e.g. { ESTABLISHED: 3, CLOSE_WAIT: 1 }. */
export function tcpSocketStates(pid: number): Record<string, number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match !== null) inodes.add(match[1]!);
    } catch {
      // closed while we looked
    }
  }
  const states: Record<string, number> = {};
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || !inodes.has(fields[9]!)) continue;
      const state = TCP_STATES[fields[3]!] ?? fields[3]!;
      states[state] = (states[state] ?? 0) + 1;
    }
  }
  return states;
}
