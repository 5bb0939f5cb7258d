// Docker Hub's v1 search API over the registry's repositories, and the stars it reports: one per user and
// repository, kept in <root>/stars.json.
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../util/atomic.js';
import { parseManifest } from './manifests.js';
import type { RegistryStorage } from './storage.js';

export interface SearchResult { name: string; description: string; star_count: number; is_official: boolean; is_automated: boolean }
export interface SearchPage { num_results: number; num_pages: number; page: number; page_size: number; query: string; results: SearchResult[] }

const DESCRIPTION = 'org.opencontainers.image.description';

export class Stars {
  private stars?: Record<string, string[]>;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly root: string) {}

  private get file(): string { return join(this.root, 'stars.json'); }

  private async all(): Promise<Record<string, string[]>> {
    this.stars ??= (await readJson<Record<string, string[]>>(this.file)) ?? {};
    return this.stars;
  }

  async count(repo: string): Promise<number> {
    return (await this.all())[repo]?.length ?? 0;
  }

  /** Star (or unstar) for a user; returns the new count. Changes are written one after another. */
  set(repo: string, user: string, starred: boolean): Promise<number> {
    const run = this.writing.then(async () => {
      const all = await this.all();
      const users = new Set(all[repo] ?? []);
      if (starred === users.has(user)) return users.size;
      if (starred) users.add(user); else users.delete(user);
      if (users.size) all[repo] = [...users].sort(); else delete all[repo];
      await writeJsonAtomic(this.file, all);
      return users.size;
    });
    this.writing = run.catch(() => undefined);
    return run;
  }
}

/** The description label of the repository's most recently moved tag (its config, or its index's first image). */
async function description(storage: RegistryStorage, repo: string): Promise<string> {
  const tags = await storage.tags(repo);
  if (!tags.length) return '';
  const newest = tags.reduce((a, b) => (b.mtime > a.mtime ? b : a));
  try {
    let m = parseManifest(await storage.readBlob(newest.digest));
    if (m.kind === 'index') {
      if (m.annotations?.[DESCRIPTION]) return m.annotations[DESCRIPTION];
      const child = m.manifests.find((c) => !c.annotations?.['vnd.docker.reference.type']);
      if (!child) return '';
      m = parseManifest(await storage.readBlob(child.digest));
    }
    if (!m.config) return '';
    const config = JSON.parse((await storage.readBlob(m.config.digest)).toString('utf8')) as { config?: { Labels?: Record<string, string> } };
    return config.config?.Labels?.[DESCRIPTION] ?? m.annotations?.[DESCRIPTION] ?? '';
  } catch {
    return ''; // a child or config not in the store: no description rather than no search
  }
}

/** Repositories whose name contains `query`, most starred first, one page of `size`. */
export async function search(storage: RegistryStorage, stars: Stars, query: string, size: number, page: number): Promise<SearchPage> {
  const q = query.toLowerCase();
  const matches = await Promise.all((await storage.repositories()).filter((r) => r.includes(q)).map(async (name) => ({ name, stars: await stars.count(name) })));
  matches.sort((a, b) => b.stars - a.stars || (a.name < b.name ? -1 : 1));
  const slice = matches.slice((page - 1) * size, page * size);
  const results = await Promise.all(slice.map(async (m) => ({
    name: m.name,
    description: await description(storage, m.name),
    star_count: m.stars,
    is_official: !m.name.includes('/') || m.name.startsWith('library/'),
    is_automated: false,
  })));
  return { num_results: matches.length, num_pages: Math.max(1, Math.ceil(matches.length / size)), page, page_size: size, query, results };
}
