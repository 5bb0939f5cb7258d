// The dashboard's console: a command (a shell by default) in a running container with a terminal, as `docker exec -it`
// gives one, carried over a WebSocket. Here the dashboard is a client of the daemon's own socket: it makes and
// starts (hijacks) the exec and resizes its terminal through the Engine API, as the docker CLI does.
//
// Browser → server: text frames, JSON {"type":"input","data":"…"} or {"type":"resize","cols":N,"rows":N}.
// Server → browser: binary frames of terminal output; at the end, a close frame whose reason says the exit code.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { EngineClient } from '../client/api.js';
import { errorMessage } from '../util/errors.js';
import { log } from '../util/log.js';

export interface ConsoleOptions {
  /** The daemon's API, e.g. unix:///run/tugboat/tugboat.sock. */
  apiHost: string;
  /** The request carries the login cookie. */
  loggedIn(req: IncomingMessage): boolean;
}

const PATH = /^\/console\/([0-9a-f]{12,64})$/;

/** Serve /console/ID?cmd=sh&cols=N&rows=N as WebSocket upgrades on the dashboard's server. */
export function serveConsole(server: Server, o: ConsoleOptions): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const m = PATH.exec(url.pathname);
    const refuse = (status: string) => { socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`); };
    if (!m) return refuse('404 Not Found');
    if (!o.loggedIn(req)) return refuse('401 Unauthorized');
    // a page of another site may open WebSockets here too: only the dashboard's own pages may
    if (req.headers.origin !== `http://${req.headers.host}`) return refuse('403 Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const size = { cols: positive(url.searchParams.get('cols'), 80), rows: positive(url.searchParams.get('rows'), 24) };
      void runConsole(ws, new EngineClient(o.apiHost), m[1], (url.searchParams.get('cmd') || 'sh').split(' ').filter(Boolean), size);
    });
  });
}

async function runConsole(ws: WebSocket, client: EngineClient, container: string, cmd: string[], size: { cols: number; rows: number }): Promise<void> {
  // what the page sends before the exec runs is kept for it
  let handle: ((d: Buffer) => void) | undefined;
  const queued: Buffer[] = [];
  ws.on('message', (d: Buffer) => (handle ? handle(d) : queued.push(d)));
  try {
    const { Id } = await client.execCreate(container, { AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true, Cmd: cmd, Env: ['TERM=xterm-256color'] });
    const { socket } = await client.execStart(Id, { Tty: true });
    const resize = (cols: number, rows: number) => client.execResize(Id, rows, cols).catch(() => undefined);
    void resize(size.cols, size.rows);
    socket.on('error', () => undefined);
    socket.on('data', (b: Buffer) => { if (ws.readyState === ws.OPEN) ws.send(b); });
    socket.resume(); // the client hands the hijacked socket over paused
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // the page going away closes the command's stdin, as a closed terminal would
    if (ws.readyState !== ws.OPEN) socket.end();
    ws.on('close', () => socket.end());
    handle = (d) => {
      let m: { type?: string; data?: string; cols?: number; rows?: number };
      try { m = JSON.parse(d.toString()) as typeof m; } catch { return; }
      if (m.type === 'input' && typeof m.data === 'string') socket.write(m.data);
      else if (m.type === 'resize') void resize(positive(String(m.cols), size.cols), positive(String(m.rows), size.rows));
    };
    for (const d of queued.splice(0)) handle(d);
    await ended;
    const { ExitCode } = await client.execInspect(Id).catch(() => ({ ExitCode: null }));
    if (ws.readyState === ws.OPEN) ws.close(1000, ExitCode === null ? 'ended' : `exited with code ${ExitCode}`);
  } catch (e) {
    log.debug('dashboard console', { container, error: errorMessage(e) });
    // docker's own message (no such container, not running…) reaches the page as the close reason
    if (ws.readyState === ws.OPEN) ws.close(4000, Buffer.from(errorMessage(e)).subarray(0, 120).toString());
  }
}

function positive(v: string | null, dflt: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 && n < 1000 ? n : dflt;
}
