// Garbage collection: mark every blob a manifest of any repository refers to (the manifest itself, its config
// and layers, an index's child manifests), then delete the other blobs and the repository links to them.
// Run with the registry stopped: it takes the root's lock.
import { parseManifest } from './manifests.js';
import type { RegistryStorage } from './storage.js';

export interface GcResult { kept: number; removed: Array<{ digest: string; size: number }> }

export async function collectGarbage(storage: RegistryStorage, o: { dryRun?: boolean; print?: (line: string) => void } = {}): Promise<GcResult> {
  const print = o.print ?? (() => undefined);
  const marked = new Set<string>();
  const repos = await storage.repositories();
  for (const repo of repos) {
    for (const digest of await storage.manifests(repo)) {
      marked.add(digest);
      let body: Buffer;
      try { body = await storage.readBlob(digest); } catch { continue; }
      try {
        const m = parseManifest(body);
        for (const d of [...m.blobs, ...m.manifests]) marked.add(d.digest);
      } catch { /* kept as it was stored; it names nothing we can read */ }
    }
  }
  const removed: GcResult['removed'] = [];
  let kept = 0;
  for await (const b of storage.blobs()) {
    if (marked.has(b.digest)) { kept++; continue; }
    removed.push(b);
    print(`${o.dryRun ? 'would delete' : 'deleting'} blob ${b.digest} (${b.size} bytes)`);
    if (!o.dryRun) await storage.removeBlob(b.digest);
  }
  if (!o.dryRun && removed.length) {
    const gone = new Set(removed.map((b) => b.digest));
    for (const repo of repos) for (const d of await storage.linkedBlobs(repo)) if (gone.has(d)) await storage.unlinkBlob(repo, d);
  }
  return { kept, removed };
}
