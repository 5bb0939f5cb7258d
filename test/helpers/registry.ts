// Real registries for tests: Debian's docker-registry (the CNCF distribution registry) on a loopback port with
// its own storage, optionally behind htpasswd; and OCI image layouts made from tars, copied in with skopeo.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

async function freePort(ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, ip, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export class TestRegistry {
  readonly dir = mkdtempSync(join(tmpdir(), 'tug-registry-'));
  host = '';
  private proc?: ChildProcess;
  private log = '';

  /** `ip`: where to listen (loopback by default; another address to test insecure-registries). */
  constructor(private readonly auth?: { user: string; password: string }, private readonly ip = '127.0.0.1') {}

  async start(): Promise<void> {
    const port = await freePort(this.ip);
    this.host = `${this.ip}:${port}`;
    let authBlock = '';
    if (this.auth) {
      const h = spawnSync('htpasswd', ['-Bbn', this.auth.user, this.auth.password], { encoding: 'utf8' });
      if (h.status !== 0) throw new Error(`htpasswd: ${h.stderr}`);
      writeFileSync(join(this.dir, 'htpasswd'), h.stdout);
      authBlock = `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${join(this.dir, 'htpasswd')}\n`;
    }
    writeFileSync(join(this.dir, 'config.yml'), `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(this.dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${this.host}\n${authBlock}`);
    this.proc = spawn('docker-registry', ['serve', join(this.dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout?.on('data', (b: Buffer) => { this.log += b.toString(); });
    this.proc.stderr?.on('data', (b: Buffer) => { this.log += b.toString(); });
    const end = Date.now() + 15000;
    for (;;) {
      try {
        const r = await fetch(`http://${this.host}/v2/`);
        if (r.status === 200 || r.status === 401) return;
      } catch { /* not up yet */ }
      if (Date.now() > end) throw new Error(`docker-registry did not start:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** skopeo copy into this registry (plain HTTP). */
  copyIn(source: string, target: string, extra: string[] = []): void {
    const creds = this.auth ? ['--dest-creds', `${this.auth.user}:${this.auth.password}`] : [];
    const r = spawnSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', ...creds, ...extra, source, `docker://${this.host}/${target}`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`skopeo copy ${source}: ${r.stderr}`);
  }

  /** The manifest digest the registry reports for repo:tag. */
  async digestOf(repo: string, tag: string): Promise<string> {
    const headers: Record<string, string> = { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json' };
    if (this.auth) headers.Authorization = `Basic ${Buffer.from(`${this.auth.user}:${this.auth.password}`).toString('base64')}`;
    const r = await fetch(`http://${this.host}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers });
    return r.headers.get('docker-content-digest') ?? '';
  }

  async stop(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc!.once('exit', r));
      this.proc.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * An OCI image layout in `dir` with the given layer tars (gzip-compressed unless `compress` is false) and config,
 * tagged `tag`; for skopeo's `oci:DIR:TAG`. Returns the manifest digest and the layers' DiffIDs.
 */
export function ociLayout(dir: string, tag: string, layers: Buffer[], config: Record<string, unknown> = {}, compress = true): { manifestDigest: string; diffIds: string[] } {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer) => { const h = sha(b); writeFileSync(join(dir, 'blobs', 'sha256', h), b); return `sha256:${h}`; };
  const diffIds = layers.map((l) => `sha256:${sha(l)}`);
  const layerDescs = layers.map((l) => {
    if (!compress) return { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: put(l), size: l.length };
    const gz = gzipSync(l);
    return { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: put(gz), size: gz.length };
  });
  const cfg = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: new Date().toISOString(),
    config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...config },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map((_, i) => ({ created: new Date().toISOString(), created_by: `layer ${i}` })),
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(cfg), size: cfg.length },
    layers: layerDescs,
  }));
  const manifestDigest = put(manifest);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
  return { manifestDigest, diffIds };
}
