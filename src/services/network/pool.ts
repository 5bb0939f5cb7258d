// Namespaces made ahead of time, a few per bridge network, each already linked (veth, address, routes): a starting
// container takes one and its network costs no process at all; the pool refills in the background. Their records
// live in <data-root>/network/pool; whatever a stopped or killed daemon left there is undone at the next start.
// A namespace comes back when its container exits and nothing in it can have changed (see NetworkManager.detach):
// the next container takes it as it is, and neither the exit nor the start runs a CNI plugin.
import { randomBytes } from 'node:crypto';
import { errorMessage } from '../../util/errors.js';
import { log } from '../../util/log.js';
import type { Attachment } from './bridge.js';
import type { SandboxRecord, Sandboxes } from './sandbox.js';
import type { NetworkRecord } from './types.js';

const REFILL_DELAY_MS = 150;

export interface Warm {
  id: string;
  sandbox: SandboxRecord;
  attachment: Attachment;
  /** Its current loan: `back` once the container gave it back (then its refill is not needed). */
  lease?: { back: boolean };
}

export interface PoolDeps {
  sandboxes: Sandboxes;
  /** Pre-made namespaces per network; 0 turns the pool off. */
  size: number;
  /** Link a fresh namespace to the network as eth0 (recorded in `sandboxes` under `id`). */
  make(net: NetworkRecord, id: string, sandbox: SandboxRecord): Promise<Attachment>;
  /** Undo a namespace and its links. */
  undo(id: string, sandbox: SandboxRecord): Promise<void>;
  /** How long after a take the pool refills (default REFILL_DELAY_MS). */
  refillDelayMs?: number;
}

export class SandboxPool {
  private ready = new Map<string, Warm[]>();
  private filling = new Map<string, Promise<void>>();
  /** Namespaces handed to containers: by container ID, with the network they are linked to. */
  private lent = new Map<string, { warm: Warm; netId: string }>();
  /** The daemon is stopping: a refill timer that fires now must not make namespaces nobody will undo. */
  private closed = false;

  constructor(private readonly d: PoolDeps) {}

  /** A ready namespace on this network, if one is; the pool refills behind it, a moment later, so as not to
   *  compete with the container's own start for the CPU, unless the namespace came back meanwhile. */
  take(net: NetworkRecord): Warm | undefined {
    const w = this.ready.get(net.Id)?.shift();
    const lease = { back: false };
    if (w) w.lease = lease;
    setTimeout(() => { if (!lease.back) this.fill(net); }, this.d.refillDelayMs ?? REFILL_DELAY_MS).unref();
    return w;
  }

  /** A taken namespace's record becomes its container's. */
  async handOver(w: Warm, net: NetworkRecord, to: Sandboxes, containerId: string): Promise<void> {
    await this.d.sandboxes.moveTo(w.id, to, containerId);
    this.lent.set(containerId, { warm: w, netId: net.Id });
  }

  /**
   * The container is done with the namespace it took: with `reusable`, it joins the network's ready ones again
   * (its record moved back from `from`) when there is room. False when the caller must undo it.
   */
  async takeBack(containerId: string, from: Sandboxes, reusable: boolean): Promise<boolean> {
    const lent = this.lent.get(containerId);
    this.lent.delete(containerId);
    const list = lent && this.ready.get(lent.netId);
    if (!reusable || !lent || !list || list.length >= this.d.size || this.closed) return false;
    await from.moveTo(containerId, this.d.sandboxes, lent.warm.id);
    list.push(lent.warm);
    if (lent.warm.lease) lent.warm.lease.back = true;
    return true;
  }

  /** Top the network's pool up, one namespace at a time, in the background. */
  fill(net: NetworkRecord): void {
    if (this.d.size <= 0 || this.closed || this.filling.has(net.Id)) return;
    const run = (async () => {
      const list = this.ready.get(net.Id) ?? [];
      this.ready.set(net.Id, list);
      while (list.length < this.d.size && this.ready.get(net.Id) === list) {
        const id = randomBytes(32).toString('hex');
        const sandbox = await this.d.sandboxes.create(id);
        try {
          list.push({ id, sandbox, attachment: await this.d.make(net, id, sandbox) });
        } catch (e) {
          await this.d.undo(id, sandbox);
          log.warn('pre-made network namespace', { network: net.Name, error: errorMessage(e) });
          return;
        }
      }
    })().finally(() => this.filling.delete(net.Id));
    this.filling.set(net.Id, run);
  }

  /** Undo the network's ready namespaces (it is being removed, or the daemon stops). */
  async drop(netId: string): Promise<void> {
    const list = this.ready.get(netId) ?? [];
    this.ready.delete(netId);
    await this.filling.get(netId);
    for (const w of list.splice(0)) await this.d.undo(w.id, w.sandbox);
  }

  async dropAll(): Promise<void> {
    this.closed = true;
    for (const id of new Set([...this.ready.keys(), ...this.filling.keys()])) await this.drop(id);
  }

  /** At start: what a previous daemon left is undone (its addresses may be stale). */
  async undoLeftovers(): Promise<void> {
    for (const id of await this.d.sandboxes.ids()) {
      const sb = await this.d.sandboxes.read(id);
      if (sb) await this.d.undo(id, sb);
    }
  }
}
