// Container writable-layer sizes, kept instead of walked on every request (see SizeCache): measured again only
// after the container starts, stops or goes, or while it runs when the last figure is old.
import type { ContainerRecord } from './types.js';
import type { EventBus } from '../events/bus.js';
import { SizeCache } from '../../util/size-cache.js';

export class ContainerSizes {
  private cache: SizeCache;

  constructor(private readonly d: { upperDir: (rec: ContainerRecord) => string; events: EventBus; maxAgeMs?: number }) {
    this.cache = new SizeCache(d.maxAgeMs);
  }

  /** Forget sizes when a container starts, stops (a last measure is due) or goes. */
  attach(): void {
    this.d.events.subscribe((e) => {
      if (e.Type === 'container' && (e.Action === 'start' || e.Action === 'die' || e.Action === 'destroy')) this.cache.invalidate(e.Actor.ID);
    });
  }

  /** Bytes in the container's writable layer. */
  rw(rec: ContainerRecord): Promise<number> {
    const live = rec.State.Status === 'running' || rec.State.Status === 'paused' || rec.State.Status === 'restarting';
    return this.cache.size(rec.Id, this.d.upperDir(rec), live);
  }
}
