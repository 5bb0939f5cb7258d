// Where the daemon listens: -H/--host, else TUG_HOST, else DOCKER_HOST, else the default socket.
export const DEFAULT_HOST = 'unix:///run/tugboat/tugboat.sock';

export type Endpoint =
  | { kind: 'unix'; socketPath: string; display: string }
  | { kind: 'tcp'; host: string; port: number; tls: boolean; display: string };

export function resolveHost(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.TUG_HOST || env.DOCKER_HOST || DEFAULT_HOST;
}

export function parseHost(spec: string): Endpoint {
  const s = spec.trim();
  if (s.startsWith('unix://')) return { kind: 'unix', socketPath: s.slice('unix://'.length), display: s };
  if (s.startsWith('/')) return { kind: 'unix', socketPath: s, display: `unix://${s}` };
  const m = /^(tcp|http|https):\/\/\[?([^\]/]*?)\]?(?::(\d+))?\/?$/.exec(s);
  if (m) {
    const tls = m[1] === 'https' || process.env.DOCKER_TLS_VERIFY === '1';
    return { kind: 'tcp', host: m[2] || '127.0.0.1', port: m[3] ? Number(m[3]) : tls ? 2376 : 2375, tls, display: s };
  }
  throw new Error(`unsupported host: ${spec} (expected unix:///path or tcp://host:port)`);
}
