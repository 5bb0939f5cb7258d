// Per-interface traffic counters of a process's network namespace (/proc/<pid>/net/dev), in the shape of the
// Engine API's stats `networks`: what `docker stats` sums into its NET I/O column.

export interface InterfaceStats {
  rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number;
  tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number;
}

/** Parse /proc/net/dev text: every interface but loopback, by name. */
export function parseNetDev(text: string): Record<string, InterfaceStats> {
  const out: Record<string, InterfaceStats> = {};
  // two header lines, then "  name: 16 numbers" (receive: bytes packets errs drop …, transmit from the 9th)
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === 'lo' || f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    out[name] = {
      rx_bytes: f[0], rx_packets: f[1], rx_errors: f[2], rx_dropped: f[3],
      tx_bytes: f[8], tx_packets: f[9], tx_errors: f[10], tx_dropped: f[11],
    };
  }
  return out;
}
