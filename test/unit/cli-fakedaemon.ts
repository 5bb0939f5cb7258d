// A tiny fake Engine API server on a temp unix socket, for the CLI/client unit tests only (no real engine).
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frame } from '../../src/client/stdcopy.ts';

export interface FakeContainer {
  Id: string;
  Name: string;
  body: Record<string, unknown>;
  /** What the "process" does: output frames, echo stdin, exit code. */
  script: { stdout?: string; stderr?: string; echoStdin?: boolean; exitCode: number };
  started: boolean;
  waiters: Array<(code: number) => void>;
  attach?: Socket;
}

export interface FakeDaemon {
  socketPath: string;
  host: string;
  requests: Array<{ method: string; url: string; body: string; headers: http.IncomingHttpHeaders }>;
  containers: Map<string, FakeContainer>;
  images: unknown[];
  list: unknown[];
  close(): Promise<void>;
}

function sendJson(res: http.ServerResponse, status: number, v: unknown) {
  const b = JSON.stringify(v);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b), 'Api-Version': '1.44' });
  res.end(b);
}

export async function startFakeDaemon(script: FakeContainer['script'] = { stdout: 'hello\n', stderr: 'oops\n', exitCode: 3 }): Promise<FakeDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'tug-fake-'));
  const socketPath = join(dir, 'd.sock');
  const containers = new Map<string, FakeContainer>();
  const d: FakeDaemon = {
    socketPath, host: `unix://${socketPath}`, requests: [], containers, images: [], list: [],
    close: () => new Promise((r) => { server.close(() => { rmSync(dir, { recursive: true, force: true }); r(); }); server.closeAllConnections?.(); }),
  };
  let n = 0;
  const execs = new Map<string, { Cmd: string[] }>();
  const find = (ref: string) => [...containers.values()].find((c) => c.Id === ref || c.Name === ref || c.Id.startsWith(ref));

  const runProcess = (c: FakeContainer) => {
    const s = c.attach;
    const finish = () => {
      if (s && !s.destroyed) s.end();
      setTimeout(() => { for (const w of c.waiters.splice(0)) w(c.script.exitCode); }, 5);
    };
    if (s) {
      if (c.script.stdout) s.write(frame(1, c.script.stdout));
      if (c.script.stderr) s.write(frame(2, c.script.stderr));
    }
    if (s && c.script.echoStdin) {
      const got: Buffer[] = [];
      s.on('data', (b: Buffer) => got.push(b));
      s.on('end', () => { s.write(frame(1, `stdin:${Buffer.concat(got).toString()}`)); finish(); });
    } else setTimeout(finish, 10);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      d.requests.push({ method: req.method ?? '', url: req.url ?? '', body, headers: req.headers });
      const u = new URL(req.url ?? '/', 'http://x');
      const path = u.pathname.replace(/^\/v\d+\.\d+/, '');
      let m: RegExpExecArray | null;
      if (req.method === 'POST' && path === '/containers/create') {
        const b = JSON.parse(body) as { Image: string };
        if (b.Image === 'missing') return sendJson(res, 404, { message: `No such image: ${b.Image}:latest` });
        const id = `${String(++n).padStart(2, '0')}${'ab'.repeat(31)}`;
        containers.set(id, { Id: id, Name: u.searchParams.get('name') ?? `c${n}`, body: b, script: { ...script }, started: false, waiters: [] });
        return sendJson(res, 201, { Id: id, Warnings: [] });
      }
      if ((m = /^\/containers\/([^/]+)\/wait$/.exec(path))) {
        const c = find(m[1]);
        if (!c) return sendJson(res, 404, { message: `No such container: ${m[1]}` });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        c.waiters.push((code) => res.end(JSON.stringify({ StatusCode: code, Error: null })));
        return;
      }
      if ((m = /^\/containers\/([^/]+)\/start$/.exec(path))) {
        const c = find(m[1]);
        if (!c) return sendJson(res, 404, { message: `No such container: ${m[1]}` });
        const cmd = (c.body.Cmd as string[] | undefined)?.[0];
        if (cmd === 'nope') return sendJson(res, 400, { message: 'failed to create task: exec: "nope": executable file not found in $PATH' });
        c.started = true;
        res.writeHead(204);
        res.end();
        runProcess(c);
        return;
      }
      if (req.method === 'POST' && (m = /^\/containers\/([^/]+)\/exec$/.exec(path))) {
        const c = find(m[1]);
        if (!c) return sendJson(res, 404, { message: `No such container: ${m[1]}` });
        const id = `exec${++n}`;
        execs.set(id, JSON.parse(body) as { Cmd: string[] });
        return sendJson(res, 201, { Id: id });
      }
      if (/^\/exec\/[^/]+\/json$/.test(path)) return sendJson(res, 200, { ExitCode: 5, Running: false });
      if ((m = /^\/containers\/([^/]+)\/json$/.exec(path))) {
        const c = find(m[1]);
        if (!c) return sendJson(res, 404, { message: `No such container: ${m[1]}` });
        return sendJson(res, 200, { Id: c.Id, Name: `/${c.Name}`, State: { Status: 'exited', Pid: 0, ExitCode: 3 }, Config: { Tty: false, Image: 'busybox', Labels: { a: 'b' } }, HostConfig: {},
          NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '::', HostPort: '8080' }], '9000/tcp': null } } });
      }
      if ((m = /^\/containers\/([^/]+)\/logs$/.exec(path))) {
        const c = find(m[1]);
        if (!c) return sendJson(res, 404, { message: `No such container: ${m[1]}` });
        res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
        res.end(Buffer.concat([frame(1, 'out line\n'), frame(2, 'err line\n')]));
        return;
      }
      if ((m = /^\/containers\/([^/]+)\/(stop|kill|restart|pause|unpause)$/.exec(path)) || (req.method === 'DELETE' && (m = /^\/containers\/([^/]+)$/.exec(path)))) {
        const c = find(m[1]);
        if (!c) return sendJson(res, 404, { message: `No such container: ${m[1]}` });
        if (req.method === 'DELETE') containers.delete(c.Id);
        res.writeHead(204);
        return res.end();
      }
      if (path === '/images/create' && u.searchParams.get('fromImage')) {
        return sendJson(res, 404, { message: `pull access denied for ${u.searchParams.get('fromImage')}, repository does not exist or may require 'docker login'` });
      }
      if (path === '/containers/json') return sendJson(res, 200, d.list);
      if (path === '/images/json') return sendJson(res, 200, d.images);
      if (path === '/version') return sendJson(res, 200, { Version: '0.1.0', ApiVersion: '1.44', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64', Components: [] });
      if (path === '/_ping') { res.writeHead(200, { 'Api-Version': '1.44' }); return res.end('OK'); }
      sendJson(res, 404, { message: 'page not found' });
    });
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
    const u = new URL(req.url ?? '/', 'http://x');
    d.requests.push({ method: req.method ?? '', url: req.url ?? '', body: '', headers: req.headers });
    const ex = /\/exec\/([^/]+)\/start$/.exec(u.pathname);
    if (ex) {
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      socket.end(frame(1, `exec:${execs.get(ex[1])?.Cmd.join(' ')}\n`));
      return;
    }
    const m = /\/containers\/([^/]+)\/attach$/.exec(u.pathname);
    const c = m ? find(m[1]) : undefined;
    if (!c) {
      const b = JSON.stringify({ message: 'No such container' });
      socket.end(`HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n${b}`);
      return;
    }
    socket.allowHalfOpen = true;
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    c.attach = socket;
  });

  await new Promise<void>((r) => server.listen(socketPath, r));
  return d;
}

const cliEntry = new URL('../../src/cli/main.ts', import.meta.url).pathname;
/** tsx by its resolved location, so that the CLI can run in another working directory. */
const tsx = import.meta.resolve('tsx');

/** Run the tug CLI from source against `host` (a fake daemon's unix:// address), with optional stdin and cwd. */
export function runTug(host: string, args: string[], opts: { stdin?: string; cwd?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', tsx, cliEntry, ...args], { env: { ...process.env, TUG_HOST: host }, cwd: opts.cwd });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.stdin.end(opts.stdin ?? '');
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
