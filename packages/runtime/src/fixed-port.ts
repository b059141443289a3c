import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * TCP ports a process listens on (Linux: its socket inodes matched against /proc/net/tcp{,6});
 * empty elsewhere or when /proc cannot tell. Used only while an agent without isolation starts.
 */
export function listeningPorts(pid: number): number[] {
  if (process.platform !== 'linux') return [];
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]!);
      } catch {
        // Closed while we looked.
      }
    }
    const ports = new Set<number>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const fields = line.trim().split(/\s+/);
        // local_address is ADDR:PORT in hex; state 0A is LISTEN; field 9 is the inode.
        if (fields[3] === '0A' && inodes.has(fields[9] ?? '')) ports.add(Number.parseInt(fields[1]!.split(':')[1]!, 16));
      }
    }
    return [...ports];
  } catch {
    return [];
  }
}

/** For an agent that died at start because its fixed port was taken (another session's agent holds it). */
export function fixedPortHint(stderrTail: readonly string[], isolationOff: string | undefined): string {
  if (isolationOff === undefined || !stderrTail.some((line) => /address already in use|EADDRINUSE/i.test(line))) return '';
  return ` The agent binds a fixed port that is already taken: agent isolation is off (${isolationOff}), so agents share the host's ports and must listen on the PORT Gatehouse sets.`;
}
