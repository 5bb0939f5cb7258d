// Messages between the daemon and an unpacking worker (apply-pool.ts ↔ apply-worker.ts). One layer at a time per
// worker: start, its bytes as data messages (each acknowledged once consumed, for back-pressure), then end or abort.
import type { ApplyLimits, ApplyResult } from './apply.js';

export type LayerCompression = 'gzip' | 'zstd';

export type ToWorker =
  | { type: 'start'; dest: string; limits: ApplyLimits; compression?: LayerCompression }
  | { type: 'data'; chunk: Uint8Array }
  | { type: 'end' }
  | { type: 'abort'; message: string };

export type FromWorker =
  | { type: 'ack'; bytes: number }
  | { type: 'done'; result: ApplyResult }
  /** `layer`: the layer itself is invalid (a LayerError), rather than the input or the disk failing. */
  | { type: 'error'; message: string; layer: boolean };
