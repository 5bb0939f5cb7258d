import type { Readable } from 'node:stream';
import type { LayerCompression } from './apply-protocol.js';

/** Unpacked, read-only layer directories keyed by chain ID, shared by every image that has them. */
export interface SnapshotStore {
  /**
   * Apply a layer tar (uncompressed unless `opts.compression` says otherwise) on top of `parentChainId`. Converts OCI whiteouts to overlay
   * whiteouts and never writes outside the snapshot. Idempotent: an existing chain is reused.
   */
  applyLayer(parentChainId: string | undefined, tar: Readable, opts?: ApplyOptions): Promise<{ diffId: string; chainId: string; size: number }>;
  has(chainId: string): boolean;
  /** Directory holding the unpacked files of that layer alone (an overlay lowerdir). */
  dir(chainId: string): string;
  /** Size in bytes of that layer's files. */
  size(chainId: string): number;
  remove(chainId: string): Promise<void>;
}

export interface ApplyOptions {
  /** Refuse (and keep nothing) unless the tar's digest is this one: a pulled layer must match its config. */
  expectDiffId?: string;
  /** The parent is being unpacked at the same time (parallel pull); it is checked before the image is added. */
  parentMayBeMissing?: boolean;
  /** The tar arrives compressed this way (a pulled blob as it comes): it is inflated where it is unpacked. */
  compression?: LayerCompression;
}

/** Chain ID per the OCI image spec: chain(L0)=diff(L0), chain(Ln)=sha256(chain(Ln-1) + " " + diff(Ln)). */
export type ChainId = string;
