// The web dashboard: a single-page app on a TCP address of its own that drives the engine through the Engine API,
// which it reaches in-process under /api/. That API is root-equivalent, so nothing but the login page answers
// without the login token's cookie, and a call that changes something also needs a header that no cross-site form
// or link can send.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import type { ApiRequestHandler } from '../api/server.js';
import { serveConsole } from './console.js';

const COOKIE = 'tugboat_dashboard';
/** Every API call that is not a GET or HEAD carries it; the app's own fetches always do. */
const CSRF_HEADER = 'x-tugboat-dashboard';

export interface DashboardOptions {
  /** The Engine API, for requests under /api/. */
  api: ApiRequestHandler;
  token: string;
  /** Directory of the built app: index.html, app.js, style.css, xterm.css. */
  assets: string;
  /** The daemon's own API address, which the console's execs go through (unix://…). */
  apiHost: string;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/xterm.css': { file: 'xterm.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

export function createDashboardServer(o: DashboardOptions): Server {
  const files = new Map<string, Buffer>();
  const asset = (name: string): Buffer | undefined => {
    if (!files.has(name)) {
      try { files.set(name, readFileSync(join(o.assets, name))); } catch { return undefined; }
    }
    return files.get(name);
  };
  const expected = Buffer.from(o.token);
  // compared as bytes: a string of the token's length in characters may be longer in bytes, which timingSafeEqual
  // refuses by throwing
  const valid = (t: string | undefined | null) => {
    const given = Buffer.from(t ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const cookie = (token: string, maxAge?: number) => `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/${maxAge === undefined ? '' : `; Max-Age=${maxAge}`}`;

  const route = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const loggedIn = valid(cookieValue(req.headers.cookie, COOKIE));
    const send = (status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}) => {
      res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const json = (status: number, message: string) => send(status, 'application/json', JSON.stringify({ message }));
    const redirect = (to: string, headers: Record<string, string> = {}) => { res.writeHead(303, { ...SECURITY_HEADERS, Location: to, ...headers }); res.end(); };

    if (url.pathname.startsWith('/api/')) {
      if (!loggedIn) return json(401, 'log in to the dashboard first');
      if (req.method !== 'GET' && req.method !== 'HEAD' && req.headers[CSRF_HEADER] !== '1') return json(403, `missing ${CSRF_HEADER} header`);
      req.url = req.url!.slice('/api'.length);
      return o.api(req, res);
    }
    if (url.pathname === '/login') {
      if (req.method === 'POST') {
        void readForm(req).then((form) => {
          if (valid(form.get('token'))) redirect('/', { 'Set-Cookie': cookie(form.get('token')!) });
          else send(401, 'text/html; charset=utf-8', loginPage('That token is not the right one.'));
        }, () => json(400, 'bad login form'));
        return;
      }
      return send(200, 'text/html; charset=utf-8', loginPage(''));
    }
    if (url.pathname === '/logout' && req.method === 'POST') {
      if (req.headers[CSRF_HEADER] !== '1') return json(403, `missing ${CSRF_HEADER} header`);
      res.writeHead(204, { ...SECURITY_HEADERS, 'Set-Cookie': cookie('', 0) });
      return res.end();
    }
    // the link `tug dashboard` prints: the token becomes the cookie, and leaves the address bar
    if (url.pathname === '/' && url.searchParams.has('token')) {
      if (valid(url.searchParams.get('token'))) return redirect('/', { 'Set-Cookie': cookie(url.searchParams.get('token')!) });
      return send(401, 'text/html; charset=utf-8', loginPage('That token is not the right one.'));
    }
    const a = ASSETS[url.pathname];
    if (!a || (req.method !== 'GET' && req.method !== 'HEAD')) return json(404, 'page not found');
    if (url.pathname === '/' && !loggedIn) return redirect('/login');
    const body = asset(a.file);
    if (!body) return json(500, `the dashboard is not built (${a.file} missing in ${o.assets}): run npm run build`);
    send(200, a.type, body);
  };
  const server = createServer((req, res) => {
    // nothing a request brings may take the daemon down with it
    try { route(req, res); } catch (e) {
      if (!res.headersSent) { res.writeHead(500, { 'Content-Type': 'application/json' }); res.end(JSON.stringify({ message: String(e) })); } else res.destroy();
    }
  });
  serveConsole(server, { apiHost: o.apiHost, loggedIn: (req) => valid(cookieValue(req.headers.cookie, COOKIE)) });
  return server;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** A urlencoded form of at most 4 KiB. */
function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; if (body.length > 4096) { req.destroy(); reject(new Error('too long')); } });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

/** The one page served without logging in: static text only, nothing from the request. */
function loginPage(error: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tugboat · log in</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/style.css"></head>
<body class="login"><form method="post" action="/login">
<h1>tugboat</h1>
<p>Paste the dashboard token (<code>tug dashboard</code> prints a link with it).</p>
${error ? `<p class="error" role="alert">${error}</p>` : ''}
<input name="token" type="password" autocomplete="current-password" aria-label="token" autofocus required>
<button type="submit">Log in</button>
</form></body></html>
`;
}
