// The CNI exec protocol (containernetworking spec 1.0): each plugin of a network configuration list is run
// with CNI_* variables and its configuration on stdin; ADD runs them in order, each getting the previous
// result, DEL in reverse. Plugins come from Debian's containernetworking-plugins.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../../util/log.js';
import { ProgramError, runProgram } from '../../sys/spawn.js';

export interface CniResult {
  cniVersion: string;
  interfaces?: Array<{ name: string; mac?: string; sandbox?: string }>;
  ips?: Array<{ address: string; gateway?: string; interface?: number }>;
  routes?: Array<{ dst: string; gw?: string }>;
  dns?: Record<string, unknown>;
}

export interface PluginConf { type: string; capabilities?: Record<string, boolean>; [k: string]: unknown }
export interface ConfList { cniVersion: string; name: string; plugins: PluginConf[] }

export class CniError extends Error {
  constructor(readonly plugin: string, readonly code: number, msg: string) { super(`${plugin}: ${msg}`); }
}

export const DEFAULT_CNI_PATH = ['/usr/lib/cni', '/opt/cni/bin'];

export class CniRunner {
  constructor(private readonly paths: string[] = DEFAULT_CNI_PATH) {}

  private binary(type: string): string {
    if (!/^[a-z0-9-]+$/.test(type)) throw new CniError(type, 1, 'invalid plugin name');
    for (const d of this.paths) if (existsSync(join(d, type))) return join(d, type);
    throw new CniError(type, 1, `plugin not found in ${this.paths.join(':')} (apt-get install containernetworking-plugins)`);
  }

  async add(list: ConfList, id: string, netns: string, ifname: string, runtimeConfig: Record<string, unknown> = {}): Promise<CniResult> {
    let prev: CniResult | undefined;
    for (const p of list.plugins) prev = (await this.run('ADD', list, p, id, netns, ifname, runtimeConfig, prev)) as CniResult;
    return prev ?? { cniVersion: list.cniVersion };
  }

  /** DEL in reverse order; every plugin runs even when one fails (the first failure is reported). */
  async del(list: ConfList, id: string, netns: string, ifname: string, runtimeConfig: Record<string, unknown> = {}, prev?: CniResult): Promise<void> {
    let first: unknown;
    for (const p of [...list.plugins].reverse()) {
      try { await this.run('DEL', list, p, id, netns, ifname, runtimeConfig, prev); } catch (e) { first ??= e; }
    }
    if (first) throw first;
  }

  private run(command: 'ADD' | 'DEL', list: ConfList, plugin: PluginConf, id: string, netns: string, ifname: string, runtimeConfig: Record<string, unknown>, prev?: CniResult): Promise<unknown> {
    // a plugin sees only the runtime settings it declared a capability for
    const rc = Object.fromEntries(Object.entries(runtimeConfig).filter(([k]) => plugin.capabilities?.[k]));
    const conf = { ...plugin, cniVersion: list.cniVersion, name: list.name, ...(Object.keys(rc).length ? { runtimeConfig: rc } : {}), ...(prev ? { prevResult: prev } : {}) };
    const bin = this.binary(plugin.type);
    const t0 = Date.now();
    const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: ifname, CNI_PATH: this.paths.join(':') };
    return runProgram(bin, [], { env, input: JSON.stringify(conf) }).then(({ stdout }) => {
      try { return stdout.trim() ? JSON.parse(stdout) as unknown : {}; } catch { throw new CniError(plugin.type, 1, `unreadable result: ${stdout.slice(0, 200)}`); }
    }, (e: unknown) => {
      if (!(e instanceof ProgramError)) throw e;
      const code = typeof e.code === 'number' ? e.code : 1;
      let msg = e.stderr.trim() || (typeof e.code === 'number' ? `exit status ${e.code}` : e.message);
      try { const r = JSON.parse(e.stdout) as { code?: number; msg?: string; details?: string }; msg = [r.msg, r.details].filter(Boolean).join(': ') || msg; } catch { /* not JSON */ }
      throw new CniError(plugin.type, code, msg);
    }).finally(() => log.debug('cni', { plugin: plugin.type, command, id: id.slice(0, 12), ms: Date.now() - t0 }));
  }
}
