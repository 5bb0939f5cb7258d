// tugd: serve the Engine API on a unix socket; containers outlive the daemon (conmon holds them).
import { promises as fs, chownSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { createApiServer, type ApiRequestHandler } from '../api/server.js';
import { registerDashboardRoutes } from '../api/routes/dashboard.js';
import { parseConfig } from './config.js';
import { buildEngine } from './wiring.js';
import { log, setLogLevel } from '../util/log.js';
import { errorMessage } from '../util/errors.js';
import { noteActivity } from '../sys/memory.js';

function groupId(name: string): number | undefined {
  try {
    const line = execFileSync('getent', ['group', name], { encoding: 'utf8' }).trim();
    return Number(line.split(':')[2]);
  } catch { return undefined; }
}

async function main(): Promise<void> {
  let cfg;
  try { cfg = parseConfig(process.argv.slice(2)); } catch (e) { process.stderr.write(`tugd: ${errorMessage(e)}\n`); process.exit(125); }
  setLogLevel(cfg.logLevel);
  if (process.getuid?.() !== 0) log.warn('tugd is not running as root: containers will fail to start');
  const engine = await buildEngine(cfg);
  let dashboardUrl: string | undefined;
  registerDashboardRoutes(engine.router, () => dashboardUrl);
  await fs.mkdir(dirname(cfg.socket), { recursive: true, mode: 0o755 });
  await fs.rm(cfg.socket, { force: true });
  const server = createApiServer(engine.router, noteActivity);
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(cfg.socket, resolve); });
  await fs.chmod(cfg.socket, 0o660);
  const gid = groupId(cfg.group);
  if (gid !== undefined) chownSync(cfg.socket, 0, gid);
  log.info('API listening', { socket: cfg.socket, dataRoot: cfg.dataRoot, pid: process.pid });
  let dashboard: Server | undefined;
  if (cfg.dashboard) {
    const token = await (await import('../dashboard/token.js')).dashboardToken(cfg.dataRoot);
    dashboard = await startDashboard(cfg.dashboard, server.handle, token, `unix://${cfg.socket}`);
    const { host, port } = cfg.dashboard;
    const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
    dashboardUrl = `http://${shown}:${port}/?token=${token}`;
    log.info('dashboard listening', { url: `http://${shown}:${port}/`, login: '`tug dashboard` prints the link with its token' });
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down; containers keep running', { signal });
    for (const s of [server, dashboard]) {
      s?.close();
      s?.closeAllConnections();
    }
    await engine.shutdown();
    await fs.rm(cfg.socket, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function startDashboard(addr: { host: string; port: number }, api: ApiRequestHandler, token: string, apiHost: string): Promise<Server> {
  // loaded only when asked for (it brings a WebSocket server); the built app lies beside the daemon's bundle
  const { createDashboardServer } = await import('../dashboard/server.js');
  const server = createDashboardServer({ api, token, apiHost, assets: join(dirname(fileURLToPath(import.meta.url)), 'dashboard') });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`dashboard: cannot listen on ${addr.host}:${addr.port}: ${errorMessage(e)}`)));
    server.listen(addr.port, addr.host, resolve);
  });
  return server;
}

main().catch((e) => {
  log.error('tugd failed', { error: errorMessage(e), stack: (e as Error).stack });
  process.exit(1);
});
