// The few firewall rules a bridge network needs, once per network rather than per container (each iptables
// call costs tens of milliseconds on nftables hosts), tagged with a comment naming its bridge:
// - outbound NAT for its subnet (unless internal or masquerade is off);
// - forwarding from its bridge, and back to it for replies and published ports, even where FORWARD drops;
// - isolation, in the TUGBOAT-ISOLATION chain that FORWARD jumps to first: nothing enters the bridge from
//   elsewhere unless it answers a connection from inside or is a published port's DNAT (so networks cannot
//   reach each other), and an internal network's traffic never leaves its bridge.
import { spawnSync } from 'node:child_process';
import { runProgram } from '../../sys/spawn.js';

const run = runProgram;

export const ISOLATION_CHAIN = 'TUGBOAT-ISOLATION';

export interface RuleOptions { internal?: boolean; masquerade?: boolean }

interface Rule { table: string; chain: string; spec: string[] }

export function networkRules(bridge: string, subnet: string, o: RuleOptions = {}): Rule[] {
  const tag = ['-m', 'comment', '--comment', `tugboat:${bridge}`];
  const rules: Rule[] = [];
  if (o.internal) {
    rules.push(
      { table: 'filter', chain: ISOLATION_CHAIN, spec: ['-i', bridge, '!', '-o', bridge, ...tag, '-j', 'DROP'] },
      { table: 'filter', chain: ISOLATION_CHAIN, spec: ['-o', bridge, '!', '-i', bridge, ...tag, '-j', 'DROP'] },
      { table: 'filter', chain: 'FORWARD', spec: ['-i', bridge, '-o', bridge, ...tag, '-j', 'ACCEPT'] },
    );
    return rules;
  }
  if (o.masquerade !== false) rules.push({ table: 'nat', chain: 'POSTROUTING', spec: ['-s', subnet, '!', '-o', bridge, ...tag, '-j', 'MASQUERADE'] });
  rules.push(
    { table: 'filter', chain: ISOLATION_CHAIN, spec: ['-o', bridge, '!', '-i', bridge, '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT', ...tag, '-j', 'DROP'] },
    { table: 'filter', chain: 'FORWARD', spec: ['-i', bridge, ...tag, '-j', 'ACCEPT'] },
    { table: 'filter', chain: 'FORWARD', spec: ['-o', bridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED,DNAT', ...tag, '-j', 'ACCEPT'] },
  );
  return rules;
}

/**
 * An extra bridge of a network only switches frames to and from the first one, where routing and NAT happen.
 * Where br_netfilter is loaded, bridged frames meet iptables too: they are let through, and not tracked there,
 * since a connection first seen (and given its NAT) on the extra bridge would never be masqueraded on the first.
 */
export function extraBridgeRules(primary: string, extra: string): Rule[] {
  const tag = ['-m', 'comment', '--comment', `tugboat:${primary}`];
  return [
    { table: 'filter', chain: 'FORWARD', spec: ['-i', extra, '-o', extra, ...tag, '-j', 'ACCEPT'] },
    { table: 'raw', chain: 'PREROUTING', spec: ['-i', extra, ...tag, '-j', 'CT', '--notrack'] },
  ];
}

const ipt = (args: string[]) => run('iptables', ['-w', ...args]);
const exists = (args: string[]) => ipt(args).then(() => true, () => false);

async function ensureIsolationChain(): Promise<void> {
  if (!(await exists(['-t', 'filter', '-n', '-L', ISOLATION_CHAIN]))) await ipt(['-t', 'filter', '-N', ISOLATION_CHAIN]).catch(() => undefined);
}

/** The jump to the isolation chain must come before every ACCEPT of FORWARD (ours are inserted first too). */
async function ensureIsolationJumpFirst(): Promise<void> {
  const jump = ['-m', 'comment', '--comment', 'tugboat', '-j', ISOLATION_CHAIN];
  const { stdout } = await ipt(['-t', 'filter', '-S', 'FORWARD']);
  const first = stdout.split('\n').find((l) => l.startsWith('-A FORWARD'));
  if (first === `-A FORWARD ${jump.join(' ')}`) return;
  while (await exists(['-t', 'filter', '-D', 'FORWARD', ...jump])) { /* removed one misplaced copy */ }
  await ipt(['-t', 'filter', '-I', 'FORWARD', '1', ...jump]);
}

/** Add the rules that are missing (idempotent: checked with -C first). */
export async function ensureRules(rules: Rule[]): Promise<void> {
  const isolating = rules.some((r) => r.chain === ISOLATION_CHAIN);
  if (isolating) await ensureIsolationChain();
  await addMissing(rules);
  if (isolating) await ensureIsolationJumpFirst();
}

async function addMissing(rules: Rule[]): Promise<void> {
  for (const r of rules) {
    if (await exists(['-t', r.table, '-C', r.chain, ...r.spec])) continue;
    // isolation rules are appended (their order does not matter), the rest go first, before any host DROP
    const add = () => ipt(r.chain === ISOLATION_CHAIN ? ['-t', r.table, '-A', r.chain, ...r.spec] : ['-t', r.table, '-I', r.chain, '1', ...r.spec]);
    // the chain may have just been removed as empty by another daemon's last network: make it again
    await add().catch(async () => { if (r.chain !== ISOLATION_CHAIN) throw new Error(`iptables: cannot add ${r.spec.join(' ')}`); await ensureIsolationChain(); await add(); });
  }
}

const TABLES = ['nat', 'filter', 'raw'];

/** `iptables -D` arguments for every rule of an `iptables-save -t table` text tagged for `bridge`. */
function taggedDeletes(table: string, saved: string, bridge: string): string[][] {
  return saved.split('\n').filter((l) => l.startsWith('-A ') && l.includes(`tugboat:${bridge}"`))
    // iptables-save quotes only the comment: split on spaces outside quotes, then unquote
    .map((l) => ['-w', '-t', table, '-D', ...(l.slice(3).match(/"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^"(.*)"$/, '$1'))]);
}

/** Remove every rule tagged for `bridge` (a network's end), whatever options it was made with. */
export async function removeNetworkRules(bridge: string): Promise<void> {
  for (const table of TABLES) {
    const { stdout } = await run('iptables-save', ['-t', table]);
    for (const args of taggedDeletes(table, stdout, bridge)) await run('iptables', args).catch(() => undefined);
  }
}

/**
 * The same, synchronously, for tests and benchmarks tidying up after their daemon. The isolation chain and its jump
 * stay while the host has tugboat networks, as docker's chains do; `dropIsolationChainIfEmpty` ends them.
 */
export function dropNetworkRules(bridge: string): void {
  for (const table of TABLES) {
    const saved = spawnSync('iptables-save', ['-t', table], { encoding: 'utf8' }).stdout ?? '';
    for (const args of taggedDeletes(table, saved, bridge)) spawnSync('iptables', args, { stdio: 'ignore' });
  }
}

/** Remove the isolation chain and its jump when no network uses it any more. */
export function dropIsolationChainIfEmpty(): void {
  const rules = spawnSync('iptables-save', ['-t', 'filter'], { encoding: 'utf8' }).stdout.split('\n');
  if (rules.some((l) => l.startsWith(`-A ${ISOLATION_CHAIN} `))) return;
  if (!rules.some((l) => l === `:${ISOLATION_CHAIN} - [0:0]` || l.startsWith(`:${ISOLATION_CHAIN} `))) return;
  const jump = ['-m', 'comment', '--comment', 'tugboat', '-j', ISOLATION_CHAIN];
  spawnSync('iptables', ['-w', '-t', 'filter', '-D', 'FORWARD', ...jump], { stdio: 'ignore' });
  // another daemon added a rule meanwhile: the chain stays, and so must the jump to it
  if (spawnSync('iptables', ['-w', '-t', 'filter', '-X', ISOLATION_CHAIN], { stdio: 'ignore' }).status !== 0) spawnSync('iptables', ['-w', '-t', 'filter', '-I', 'FORWARD', '1', ...jump], { stdio: 'ignore' });
}
