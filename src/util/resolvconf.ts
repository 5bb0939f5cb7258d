// resolv.conf as the resolver reads it: the host's, for the embedded DNS's upstreams and containers' search and options.
/** nameservers/search/options from resolv.conf text; a container cannot use 127.x resolvers, but tugd (on the host) can forward to them. */
export function parseResolvConf(text: string): { nameservers: string[]; search: string[]; options: string[] } {
  const out = { nameservers: [] as string[], search: [] as string[], options: [] as string[] };
  for (const line of text.split('\n')) {
    const [key, ...args] = line.replace(/[#;].*/, '').trim().split(/\s+/);
    if (key === 'nameserver' && args[0]) out.nameservers.push(args[0]);
    else if (key === 'search' || key === 'domain') out.search = args.filter(Boolean); // the last one wins, as in glibc
    else if (key === 'options') out.options.push(...args.filter(Boolean));
  }
  return out;
}
