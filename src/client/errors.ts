// An error answered by the daemon: its HTTP status and the `message` from the JSON body.
export class EngineError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

/** The daemon could not be reached at all (no socket, refused). */
export class ConnectError extends Error {
  constructor(readonly host: string, readonly reason: Error) {
    super(`Cannot connect to the tugboat daemon at ${host}. Is the tugboat daemon running?`);
    this.name = 'ConnectError';
  }
}

export const isNotFound = (e: unknown): e is EngineError => e instanceof EngineError && e.status === 404;

export function messageFromBody(status: number, body: Buffer): string {
  const text = body.toString('utf8').trim();
  if (text) {
    try {
      const j = JSON.parse(text) as { message?: unknown };
      if (j && typeof j.message === 'string') return j.message;
    } catch { /* not JSON: use the text */ }
    return text;
  }
  return `request failed with status ${status}`;
}
