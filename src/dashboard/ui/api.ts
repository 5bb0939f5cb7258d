// The Engine API as the dashboard's server forwards it under /api/: JSON calls, docker's error messages, log frames
// and streamed JSON progress.
const BASE = '/api/v1.44';

export class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/** `body`: JSON, or bytes sent as they are (a tar). */
async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const raw = body instanceof Uint8Array;
  const res = await fetch(BASE + path, {
    method,
    headers: { 'X-Tugboat-Dashboard': '1', ...(body === undefined ? {} : { 'Content-Type': raw ? 'application/x-tar' : 'application/json' }) },
    body: body === undefined ? undefined : raw ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 401) { location.href = '/login'; throw new ApiError(401, 'logged out'); }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try { message = ((await res.json()) as { message?: string }).message ?? message; } catch { /* not JSON */ }
    throw new ApiError(res.status, message);
  }
  return res;
}

export async function get<T>(path: string): Promise<T> { return (await call('GET', path)).json() as Promise<T>; }

/** A call that changes something; its JSON answer if it has one. */
export async function send<T = unknown>(method: 'POST' | 'DELETE' | 'PUT', path: string, body?: unknown): Promise<T | undefined> {
  const text = await (await call(method, path, body)).text();
  return text ? JSON.parse(text) as T : undefined;
}

/** A streamed JSON answer (pull progress, build output, past events): each message as it comes; an `error` in one is thrown. */
export async function stream(method: 'GET' | 'POST', path: string, each: (m: Record<string, unknown>) => void, body?: Uint8Array): Promise<void> {
  const res = await call(method, path, body);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (value) buf += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      const m = JSON.parse(line) as Record<string, unknown>;
      if (m.error) throw new ApiError(500, String(m.error));
      each(m);
    }
    if (done) return;
  }
}

/** A container's log: raw bytes with a terminal, else docker's 8-byte-header frames (1 stdout, 2 stderr). */
export async function logs(id: string, tty: boolean, tail: number, timestamps: boolean): Promise<string> {
  const res = await call('GET', `/containers/${id}/logs?stdout=1&stderr=1&tail=${tail}&timestamps=${timestamps ? 1 : 0}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (tty) return new TextDecoder().decode(bytes);
  return new TextDecoder().decode(demux(bytes));
}

export function demux(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let i = 0;
  while (i + 8 <= bytes.length) {
    const len = new DataView(bytes.buffer, bytes.byteOffset + i + 4, 4).getUint32(0);
    parts.push(bytes.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
