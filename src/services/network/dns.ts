// Embedded DNS server: answers container names on each network's gateway address (as aardvark-dns
// does) and forwards everything else, raw, to the client's upstream resolvers.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, isIPv6, type Server, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { log } from '../../util/log.js';
import { errorMessage } from '../../util/errors.js';
export { parseResolvConf } from '../../util/resolvconf.js';

export interface DnsRecords {
  /** IPv4 addresses answering `name` (lower-case, no trailing dot) for the container at clientIp; undefined: not a name of ours (forward it). */
  lookup(clientIp: string, name: string): string[] | undefined;
  /** Name for a PTR query of `ip` (an address of ours the client may see); undefined: forward. */
  reverse(clientIp: string, ip: string): string | undefined;
  /** Upstream resolvers for this client: its own --dns servers, else the host's. Each "ip" or "ip:port". */
  upstreams(clientIp: string): string[];
}

const TTL = 600;
const SERVFAIL = 2;
const TCP_IDLE_MS = 10_000;

interface Served { udp: UdpSocket; tcp: Server; conns: Set<Socket> }

/** "ip", "ip:port", "[v6]:port" or a bare IPv6 address → host and port. */
export function splitHostPort(s: string): { host: string; port: number } {
  const m = /^\[(.+)\](?::(\d+))?$/.exec(s) ?? (isIPv6(s) ? null : /^([^:]+):(\d+)$/.exec(s));
  return m ? { host: m[1], port: m[2] ? Number(m[2]) : 53 } : { host: s, port: 53 };
}

/** "d.c.b.a.in-addr.arpa" → "a.b.c.d"; undefined for anything else (ip6.arpa is forwarded). */
export function ptrToIp(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) return undefined;
  return m.slice(1).reverse().map(Number).join('.');
}

const frame = (b: Buffer): Buffer => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);

export class EmbeddedDns {
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly served = new Map<string, Promise<Served>>();

  constructor(private readonly records: DnsRecords, opts: { port?: number; timeoutMs?: number } = {}) {
    this.port = opts.port ?? 53;
    this.timeoutMs = opts.timeoutMs ?? 3000;
  }

  listen(ip: string): Promise<void> {
    let p = this.served.get(ip);
    if (!p) {
      const bound = (p = this.bind(ip));
      this.served.set(ip, bound);
      bound.catch(() => { if (this.served.get(ip) === bound) this.served.delete(ip); }); // so a failed bind can be retried
    }
    return p.then(() => undefined);
  }

  async close(ip: string): Promise<void> {
    const p = this.served.get(ip);
    this.served.delete(ip);
    const s = await p?.catch(() => undefined);
    if (!s) return;
    for (const c of s.conns) c.destroy(); // server.close() would otherwise wait for idle clients
    await Promise.all([new Promise<void>((r) => s.udp.close(() => r())), new Promise<void>((r) => s.tcp.close(() => r()))]);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.served.keys()].map((ip) => this.close(ip)));
  }

  private async bind(ip: string): Promise<Served> {
    const udp = createSocket({ type: isIPv6(ip) ? 'udp6' : 'udp4' });
    const conns = new Set<Socket>();
    const tcp = createServer((sock) => this.serveTcp(sock, conns));
    const where = `${ip}:${this.port}`;
    try {
      await new Promise<void>((res, rej) => { udp.once('error', rej); udp.bind({ address: ip, port: this.port, exclusive: true }, res); });
      await new Promise<void>((res, rej) => { tcp.once('error', rej); tcp.listen({ host: ip, port: this.port }, res); });
    } catch (e) {
      try { udp.close(); } catch { /* never bound */ }
      tcp.close();
      throw new Error(`dns: cannot listen on ${where}: ${errorMessage(e)}`, { cause: e });
    }
    udp.removeAllListeners('error');
    tcp.removeAllListeners('error');
    udp.on('error', (e) => log.warn('dns: udp socket', { addr: where, error: e.message }));
    tcp.on('error', (e) => log.warn('dns: tcp server', { addr: where, error: e.message }));
    udp.on('message', (msg, rinfo) => {
      void this.handle(msg, rinfo.address, 'udp').then((reply) => {
        if (!reply) return;
        try {
          udp.send(reply, rinfo.port, rinfo.address, (e) => e && log.warn('dns: udp send', { error: e.message }));
        } catch { /* socket closed while the query was forwarded */ }
      });
    });
    return { udp, tcp, conns };
  }

  private serveTcp(sock: Socket, conns: Set<Socket>): void {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    sock.on('error', (e) => log.debug('dns: tcp client', { error: e.message }));
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    const client = (sock.remoteAddress ?? '').replace(/^::ffff:/, '');
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      // Several framed queries per connection; replies may go out of order (RFC 7766 allows it).
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + q.length);
        void this.handle(q, client, 'tcp').then((reply) => { if (reply && !sock.destroyed) sock.write(frame(reply)); });
      }
    });
  }

  /** The reply to one query, or undefined to drop it (malformed, or not a query). */
  private async handle(msg: Buffer, client: string, proto: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let q: dnsPacket.DecodedPacket;
    try { q = dnsPacket.decode(msg); } catch { return undefined; }
    const question = q.questions?.[0];
    // Never answer responses (no reflection loops); only standard queries (opcode 0) are ours.
    if (q.type !== 'query' || !question || ((q.flags ?? 0) >> 11) & 0xf) return undefined;
    try {
      const local = this.answerLocally(q, question, client);
      if (local) return proto === 'udp' && local.length > 512 ? this.reply(q, [], dnsPacket.TRUNCATED_RESPONSE) : local; // TC: retry over TCP
      for (const up of this.records.upstreams(client)) {
        const { host, port } = splitHostPort(up);
        if (port === this.port && this.served.has(host)) continue; // forwarding to ourselves would loop
        try {
          return await (proto === 'udp' ? this.forwardUdp(msg, host, port) : this.forwardTcp(msg, host, port));
        } catch (e) {
          log.debug('dns: upstream failed', { upstream: up, error: errorMessage(e) });
        }
      }
    } catch (e) {
      log.warn('dns: query failed', { error: errorMessage(e) });
    }
    return this.reply(q, [], SERVFAIL);
  }

  private answerLocally(q: dnsPacket.DecodedPacket, question: dnsPacket.Question, client: string): Buffer | undefined {
    const name = question.name.toLowerCase().replace(/\.$/, '');
    if (question.type === 'PTR') {
      const ip = ptrToIp(name);
      const target = ip === undefined ? undefined : this.records.reverse(client, ip);
      if (target !== undefined) return this.reply(q, [{ type: 'PTR', name: question.name, ttl: TTL, data: target }]);
    }
    const addrs = this.records.lookup(client, name);
    if (addrs === undefined) return undefined;
    // Other types of our names get NOERROR/empty, so resolvers don't try search domains or upstreams.
    const answers = question.type === 'A' ? addrs.map((data) => ({ type: 'A' as const, name: question.name, ttl: TTL, data })) : [];
    return this.reply(q, answers);
  }

  private reply(q: dnsPacket.DecodedPacket, answers: dnsPacket.Answer[], extraFlags = 0): Buffer {
    const rd = (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    const aa = extraFlags & 0xf ? 0 : dnsPacket.AUTHORITATIVE_ANSWER; // SERVFAIL is not authoritative
    return dnsPacket.encode({
      type: 'response', id: q.id, flags: rd | aa | dnsPacket.RECURSION_AVAILABLE | extraFlags,
      questions: q.questions, answers,
    });
  }

  /** One fresh socket per query: its ephemeral port means no reply can be taken for another's. */
  private forwardUdp(msg: Buffer, host: string, port: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const s = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
      let finished = false;
      const done = (e: Error | undefined, r?: Buffer): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        s.close();
        if (e) reject(e); else resolve(r!);
      };
      const timer = setTimeout(() => done(new Error('timeout')), this.timeoutMs);
      s.on('error', (e) => done(e));
      s.on('message', (r, rinfo) => {
        if (rinfo.address === host && rinfo.port === port && r.length >= 2 && r.readUInt16BE(0) === msg.readUInt16BE(0)) done(undefined, r);
      });
      s.send(msg, port, host, (e) => e && done(e));
    });
  }

  private forwardTcp(msg: Buffer, host: string, port: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      let buf = Buffer.alloc(0);
      let finished = false;
      const done = (e: Error | undefined, r?: Buffer): void => {
        if (finished) return;
        finished = true;
        s.destroy();
        if (e) reject(e); else resolve(r!);
      };
      s.setTimeout(this.timeoutMs, () => done(new Error('timeout')));
      s.on('error', (e) => done(e));
      s.on('close', () => done(new Error('connection closed without a reply')));
      s.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(undefined, buf.subarray(2, 2 + buf.readUInt16BE(0)));
      });
      s.write(frame(msg));
    });
  }
}
