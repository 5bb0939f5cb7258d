// A process's environment, put together as docker does it.

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const keyOf = (kv: string) => kv.split('=', 1)[0];

/** `base` with each of `overrides` replacing the entry of its name in place, or appended. */
export function overrideEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const out = new Map<string, string>();
  for (const kv of [...base, ...overrides]) out.set(keyOf(kv), kv);
  return [...out.values()];
}

/** What a process gets: a name without '=' (`-e NAME` with NAME unset where the client ran) unsets it, as in docker. */
export function dropUnset(env: readonly string[]): string[] {
  return env.filter((kv) => kv.includes('='));
}

/**
 * A container's or an exec's: PATH, HOSTNAME, TERM for a terminal and the link variables first, each overridden by the
 * container's (then the exec's) own; HOME from the user's passwd entry unless set.
 */
export function processEnv(o: { hostname: string; tty: boolean; linkEnv?: readonly string[]; env: readonly string[]; home: string }): string[] {
  const daemon = [DEFAULT_PATH, `HOSTNAME=${o.hostname}`, ...(o.tty ? ['TERM=xterm'] : []), ...(o.linkEnv ?? [])];
  const env = dropUnset(overrideEnv(daemon, o.env));
  return env.some((kv) => keyOf(kv) === 'HOME') ? env : [...env, `HOME=${o.home}`];
}
