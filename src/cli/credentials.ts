// Registry credentials in docker's config.json shape ({"auths": {"host": {"auth": base64("user:pass")}}}),
// kept in ~/.tugboat/config.json (TUG_CONFIG or DOCKER_CONFIG choose the directory), and the X-Registry-Auth
// header the daemon expects for one registry.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { registryHostOf } from '../services/images/reference.js';

interface ConfigFile { auths?: Record<string, { auth?: string; identitytoken?: string }>; [k: string]: unknown }

const HUB = 'https://index.docker.io/v1/';

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TUG_CONFIG || env.DOCKER_CONFIG || join(homedir(), '.tugboat');
}

function configPath(): string { return join(configDir(), 'config.json'); }

function readConfig(): ConfigFile {
  try { return JSON.parse(readFileSync(configPath(), 'utf8')) as ConfigFile; } catch { return {}; }
}

function writeConfig(c: ConfigFile): void {
  mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  const tmp = `${configPath()}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(c, null, '\t')}\n`, { mode: 0o600 });
  renameSync(tmp, configPath());
}

/** The registry a reference or login argument names; Docker Hub by docker's key. */
export function registryKey(refOrHost: string | undefined): string {
  if (!refOrHost || refOrHost === 'docker.io' || refOrHost === 'index.docker.io' || refOrHost === HUB) return HUB;
  const noScheme = refOrHost.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return noScheme;
}

/** The registry host of an image reference ("localhost:5000/app:1" → "localhost:5000"). */
export function registryOf(ref: string): string {
  return registryHostOf(ref) ?? HUB;
}

export function storeCredentials(server: string, username: string, password: string): void {
  const c = readConfig();
  c.auths = { ...(c.auths ?? {}), [registryKey(server)]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } };
  writeConfig(c);
}

/** Returns whether there was something to remove. */
export function eraseCredentials(server: string): boolean {
  const c = readConfig();
  const key = registryKey(server);
  if (!c.auths?.[key]) return false;
  delete c.auths[key];
  writeConfig(c);
  return true;
}

/** X-Registry-Auth for the registry of `ref`, when credentials are stored for it. */
export function registryAuthFor(ref: string): string | undefined {
  const key = registryOf(ref);
  const entry = readConfig().auths?.[key];
  if (!entry?.auth) return undefined;
  const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
  const i = plain.indexOf(':');
  const body = { username: plain.slice(0, i), password: plain.slice(i + 1), serveraddress: key };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}
