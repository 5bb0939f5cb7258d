// The few firewall rules a bridge network needs, once per network rather than per container (each iptables
// call costs tens of milliseconds on nftables hosts): outbound NAT for its subnet, and forwarding to and from
// its bridge allowed even where the FORWARD policy drops. Tagged with a comment naming the bridge.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function networkRules(bridge: string, subnet: string): Array<{ table: string; chain: string; spec: string[] }> {
  const tag = ['-m', 'comment', '--comment', `tugboat:${bridge}`];
  return [
    { table: 'nat', chain: 'POSTROUTING', spec: ['-s', subnet, '!', '-o', bridge, ...tag, '-j', 'MASQUERADE'] },
    { table: 'filter', chain: 'FORWARD', spec: ['-i', bridge, ...tag, '-j', 'ACCEPT'] },
    { table: 'filter', chain: 'FORWARD', spec: ['-o', bridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED,DNAT', ...tag, '-j', 'ACCEPT'] },
  ];
}

/** Add the rules that are missing (idempotent: checked with -C first). */
export async function ensureNetworkRules(bridge: string, subnet: string): Promise<void> {
  for (const r of networkRules(bridge, subnet)) {
    const exists = await run('iptables', ['-w', '-t', r.table, '-C', r.chain, ...r.spec]).then(() => true, () => false);
    if (!exists) await run('iptables', ['-w', '-t', r.table, '-I', r.chain, '1', ...r.spec]);
  }
}

/** Remove every rule tagged for `bridge` (a network's end: tests and benchmarks tidying up after their daemon). */
export function dropNetworkRules(bridge: string): void {
  for (const table of ['nat', 'filter']) {
    const rules = spawnSync('iptables-save', ['-t', table], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith('-A ') && l.includes(`tugboat:${bridge}"`));
    for (const r of rules) spawnSync('sh', ['-c', `iptables -w -t ${table} ${r.replace(/^-A /, '-D ')}`]);
  }
}
