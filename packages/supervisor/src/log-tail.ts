import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const CHUNK_BYTES = 64 * 1024;

/** The last `lines` lines of `file` and the offset where the file ended (to follow from). */
export function readLastLines(file: string, lines: number): { readonly text: string; readonly end: number } {
  const fd = openSync(file, 'r');
  try {
    const end = fstatSync(fd).size;
    let start = end;
    let text = '';
    // Reads backwards until it holds one newline more than it needs (the one before the first line), or the file's start.
    while (start > 0 && (text.match(/\n/g)?.length ?? 0) <= lines) {
      const size = Math.min(CHUNK_BYTES, start);
      start -= size;
      const buffer = Buffer.alloc(size);
      readSync(fd, buffer, 0, size, start);
      text = buffer.toString('utf8') + text;
    }
    const all = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
    const last = lines === 0 || text === '' ? [] : all.slice(-lines);
    return { text: last.length === 0 ? '' : `${last.join('\n')}\n`, end };
  } finally {
    closeSync(fd);
  }
}

function inodeOf(file: string): number | undefined {
  try {
    return statSync(file).ino;
  } catch {
    return undefined;
  }
}

/** Writes what was appended to the open file since `position`; returns the new position. */
function drain(fd: number, position: number, write: (text: string) => void): number {
  const buffer = Buffer.alloc(CHUNK_BYTES);
  for (;;) {
    const read = readSync(fd, buffer, 0, buffer.length, position);
    if (read === 0) return position;
    write(buffer.toString('utf8', 0, read));
    position += read;
  }
}

/**
 * Writes whatever is appended to `file` from `position` on until `signal` aborts, as `tail -F`: when the
 * path names another file (logrotate renamed it and the primary reopened on SIGUSR1) or the file shrank
 * (copytruncate), it reads the rest of the old one and goes on with the new one from its start.
 */
export async function followFile(file: string, position: number, write: (text: string) => void, signal: AbortSignal, intervalMs = 250): Promise<void> {
  let fd = openSync(file, 'r');
  let inode = fstatSync(fd).ino;
  try {
    while (!signal.aborted) {
      position = drain(fd, position, write);
      const current = inodeOf(file);
      // Renamed away and not yet created again: keep the old one until the new one appears.
      if (current !== undefined && (current !== inode || fstatSync(fd).size < position)) {
        closeSync(fd);
        fd = openSync(file, 'r');
        inode = fstatSync(fd).ino;
        position = 0;
        continue;
      }
      await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
    }
  } finally {
    closeSync(fd);
  }
}
