// The API client for this invocation: -H/--host, else TUG_HOST, else DOCKER_HOST, else the default socket.
import type { Command } from 'commander';
import { EngineClient } from '../client/api.js';
import { resolveHost } from '../client/host.js';

export function clientFor(cmd: Command): EngineClient {
  let root = cmd;
  while (root.parent) root = root.parent;
  const host = (root.opts() as { host?: string }).host;
  return new EngineClient(resolveHost(host), process.env.TUG_API_VERSION || process.env.DOCKER_API_VERSION || undefined);
}
