// Container writable-layer sizes, kept instead of walked on every request: a stopped container's size is
// measured once and kept until it runs again; a running one's is refreshed in the background when older
// than maxAge, and the last known figure is answered meanwhile.
import type { ContainerRecord } from './types.js';
import type { EventBus } from '../events/bus.js';
import { dirSize } from '../../util/du.js';

interface Entry { rw: number; at: number }

export class ContainerSizes {
  private known = new Map<string, Entry>();
  private measuring = new Map<string, Promise<number>>();

  constructor(private readonly d: { upperDir: (rec: ContainerRecord) => string; events: EventBus; maxAgeMs?: number }) {}

  /** Forget sizes when a container starts, stops (a last measure is due) or goes. */
  attach(): void {
    this.d.events.subscribe((e) => {
      if (e.Type === 'container' && (e.Action === 'start' || e.Action === 'die' || e.Action === 'destroy')) this.invalidate(e.Actor.ID);
    });
  }

  /** A measure under way when the container changes state is not kept. */
  invalidate(id: string): void { this.known.delete(id); this.measuring.delete(id); }

  /** Bytes in the container's writable layer. */
  async rw(rec: ContainerRecord): Promise<number> {
    const k = this.known.get(rec.Id);
    const live = rec.State.Status === 'running' || rec.State.Status === 'paused' || rec.State.Status === 'restarting';
    if (k && (!live || Date.now() - k.at < (this.d.maxAgeMs ?? 10_000))) return k.rw;
    const pending = this.measure(rec);
    return k ? k.rw : pending; // stale while revalidating
  }

  private measure(rec: ContainerRecord): Promise<number> {
    let p = this.measuring.get(rec.Id);
    if (!p) {
      const at = Date.now();
      const mine: Promise<number> = dirSize(this.d.upperDir(rec)).then((rw) => {
        if (this.measuring.get(rec.Id) === mine) {
          this.known.set(rec.Id, { rw, at });
          this.measuring.delete(rec.Id);
        }
        return rw;
      });
      p = mine;
      this.measuring.set(rec.Id, p);
    }
    return p;
  }
}
