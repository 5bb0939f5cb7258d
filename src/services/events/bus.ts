// In-process event bus feeding waiters, attach streams and /events, in docker's event shape.
import { EventEmitter } from 'node:events';

export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

export class EventBus {
  private emitter = new EventEmitter();
  private recent: EngineEvent[] = [];

  constructor() { this.emitter.setMaxListeners(0); }

  publish(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const now = Date.now();
    const ev: EngineEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: Math.floor(now / 1000), timeNano: now * 1e6 };
    this.recent.push(ev);
    if (this.recent.length > 1000) this.recent.splice(0, this.recent.length - 1000);
    this.emitter.emit('event', ev);
  }

  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }

  history(): EngineEvent[] { return [...this.recent]; }
}
