// Embedded DNS: local answers, raw forwarding with fallback, TCP framing, robustness, resolv.conf parsing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { EmbeddedDns, parseResolvConf, ptrToIp, splitHostPort, type DnsRecords } from '../../src/services/network/dns.ts';

const PORT = 20000 + Math.floor(Math.random() * 40000);
const seen: string[] = [];
let upstreams: string[] = [];
const records: DnsRecords = {
  lookup: (client, name) => { seen.push(client); return name === 'web' ? ['10.88.0.5', '10.88.0.6'] : undefined; },
  reverse: (_client, ip) => (ip === '10.88.0.5' ? 'web' : undefined),
  upstreams: () => upstreams,
};
const dns = new EmbeddedDns(records, { port: PORT, timeoutMs: 200 });
const closers: Array<() => unknown> = [];
after(async () => {
  await dns.closeAll();
  for (const c of closers) c();
});

// dns-packet's types leave out the decoded header fields and answer data; this is what the tests read.
interface Reply {
  id: number; type: string; rcode: string; flag_aa: boolean; flag_ra: boolean; flag_rd: boolean;
  questions: Array<{ type: string; name: string }>;
  answers: Array<{ type: string; data: unknown; ttl: number }>;
}
const decode = (b: Buffer): Reply => dnsPacket.decode(b) as unknown as Reply;

const query = (name: string, type: dnsPacket.RecordType, id = 4242): Buffer =>
  dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });

function udpQuery(ip: string, msg: Buffer, waitMs = 2000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => { s.close(); reject(new Error('no reply')); }, waitMs);
    s.on('message', (r) => { clearTimeout(t); s.close(); resolve(decode(r)); });
    s.send(msg, PORT, ip);
  });
}

function tcpQueries(ip: string, msgs: Buffer[]): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: ip, port: PORT });
    const out: Reply[] = [];
    let buf = Buffer.alloc(0);
    s.on('error', reject);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === msgs.length) { s.end(); resolve(out); }
    });
    // Both queries in one write, split across the length prefix, to exercise the framing.
    const all = Buffer.concat(msgs.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m])));
    s.write(all.subarray(0, 1));
    setTimeout(() => s.write(all.subarray(1)), 20);
  });
}

/** A fake upstream on ip:PORT answering every A query with 1.2.3.4; records the raw queries it got. */
async function fakeUpstream(ip: string): Promise<{ got: Buffer[] }> {
  const got: Buffer[] = [];
  const answer = (m: Buffer): Buffer => {
    got.push(m);
    const q = dnsPacket.decode(m);
    return dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions,
      answers: [{ type: 'A', name: q.questions![0].name, ttl: 42, data: '1.2.3.4' }] });
  };
  const udp = createSocket('udp4');
  udp.on('message', (m, r) => udp.send(answer(m), r.port, r.address));
  await new Promise<void>((res) => udp.bind(PORT, ip, res));
  const tcp: Server = createServer((s) => s.on('data', (d: Buffer) => {
    const r = answer(d.subarray(2));
    s.write(Buffer.concat([Buffer.from([r.length >> 8, r.length & 0xff]), r]));
  }));
  await new Promise<void>((res) => tcp.listen(PORT, ip, res));
  closers.push(() => udp.close(), () => tcp.close());
  return { got };
}

/** A UDP socket that swallows queries, so the forwarder has to time out. */
async function silentUpstream(ip: string): Promise<void> {
  const s: UdpSocket = createSocket('udp4');
  await new Promise<void>((res) => s.bind(PORT, ip, res));
  closers.push(() => s.close());
}

test('A for a name of ours: the addresses, authoritative, recursion available, TTL 600', async () => {
  await dns.listen('127.0.0.2');
  await dns.listen('127.0.0.2'); // idempotent
  const r = await udpQuery('127.0.0.2', query('Web.', 'A'));
  assert.equal(r.type, 'response');
  assert.equal(r.id, 4242);
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.flag_aa, true);
  assert.equal(r.flag_ra, true);
  assert.equal(r.flag_rd, true);
  assert.deepEqual(r.answers.map((a) => [a.type, a.data, a.ttl]), [['A', '10.88.0.5', 600], ['A', '10.88.0.6', 600]]);
  assert.match(seen.at(-1)!, /^127\./, 'lookup gets the client address');
});

test('AAAA (and other types) of a name of ours: NOERROR, no answers', async () => {
  for (const type of ['AAAA', 'MX'] as const) {
    const r = await udpQuery('127.0.0.2', query('web', type));
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.answers.length, 0);
  }
});

test('PTR of an address of ours', async () => {
  const r = await udpQuery('127.0.0.2', query('5.0.88.10.in-addr.arpa', 'PTR'));
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(r.answers.map((a) => [a.type, a.data]), [['PTR', 'web']]);
  assert.equal(ptrToIp('5.0.88.10.in-addr.arpa'), '10.88.0.5');
  assert.equal(ptrToIp('300.0.88.10.in-addr.arpa'), undefined);
  assert.equal(ptrToIp('1.0.0.0.ip6.arpa'), undefined);
});

test('other names are forwarded raw to the upstream, ID preserved; a PTR not ours too', async () => {
  const up = await fakeUpstream('127.0.0.3');
  upstreams = ['127.0.0.3:' + PORT];
  const q = query('example.com', 'A', 777);
  const r = await udpQuery('127.0.0.2', q);
  assert.equal(r.id, 777);
  assert.deepEqual(r.answers.map((a) => [a.data, a.ttl]), [['1.2.3.4', 42]]);
  assert.deepEqual(up.got.at(-1), q, 'the query bytes reach the upstream unchanged');
  const p = await udpQuery('127.0.0.2', query('9.9.9.9.in-addr.arpa', 'PTR', 778));
  assert.equal(p.id, 778);
  assert.equal(decode(up.got.at(-1)!).questions[0].type, 'PTR');
});

test('falls back to the next upstream when the first does not answer; SERVFAIL when none do', async () => {
  await silentUpstream('127.0.0.4');
  upstreams = ['127.0.0.4:' + PORT, '127.0.0.3:' + PORT];
  const r = await udpQuery('127.0.0.2', query('example.org', 'A', 900));
  assert.equal(r.id, 900);
  assert.equal(r.answers[0].data, '1.2.3.4');

  upstreams = ['127.0.0.4:' + PORT, '127.0.0.5:' + PORT];
  const f = await udpQuery('127.0.0.2', query('example.net', 'A', 901));
  assert.equal(f.id, 901);
  assert.equal(f.rcode, 'SERVFAIL');
  assert.equal(f.answers.length, 0);
  assert.equal(f.questions[0].name, 'example.net');
});

test('TCP: framed queries, several per connection, local and forwarded over TCP', async () => {
  upstreams = ['127.0.0.3:' + PORT];
  const [a, b] = await tcpQueries('127.0.0.2', [query('web', 'A', 1), query('example.com', 'A', 2)]);
  const byId = new Map([a, b].map((r) => [r.id, r]));
  assert.deepEqual(byId.get(1)!.answers.map((x) => x.data), ['10.88.0.5', '10.88.0.6']);
  assert.equal(byId.get(2)!.answers[0].data, '1.2.3.4');
});

test('garbage and responses are ignored; the next query is still answered', async () => {
  const s = createSocket('udp4');
  await new Promise<void>((res) => s.send(Buffer.from('not dns at all, just bytes'), PORT, '127.0.0.2', () => res()));
  await new Promise<void>((res) => s.send(Buffer.from([1, 2, 3]), PORT, '127.0.0.2', () => res()));
  const resp = dnsPacket.encode({ type: 'response', id: 5, questions: [{ type: 'A', name: 'web' }] });
  await new Promise<void>((res) => s.send(resp, PORT, '127.0.0.2', () => res()));
  s.close();
  const r = await udpQuery('127.0.0.2', query('web', 'A', 31));
  assert.equal(r.id, 31);
  assert.equal(r.answers.length, 2);
});

test('listen on an address that cannot be bound rejects clearly; close stops serving', async () => {
  await assert.rejects(dns.listen('192.0.2.123'), /dns: cannot listen on 192\.0\.2\.123:/);
  await dns.listen('127.0.0.6');
  await dns.close('127.0.0.6');
  await dns.close('127.0.0.6'); // not served: no error
  await assert.rejects(udpQuery('127.0.0.6', query('web', 'A'), 300), /no reply/);
});

test('parseResolvConf and upstream addresses', () => {
  const conf = parseResolvConf([
    '# generated', 'nameserver 127.0.0.53', 'nameserver 8.8.8.8 ; comment', 'nameserver',
    'domain old.example', 'search corp.example example.com', 'options ndots:2 edns0', 'options timeout:1', '',
  ].join('\n'));
  assert.deepEqual(conf, {
    nameservers: ['127.0.0.53', '8.8.8.8'],
    search: ['corp.example', 'example.com'],
    options: ['ndots:2', 'edns0', 'timeout:1'],
  });
  assert.deepEqual(parseResolvConf(''), { nameservers: [], search: [], options: [] });
  assert.deepEqual(splitHostPort('1.1.1.1'), { host: '1.1.1.1', port: 53 });
  assert.deepEqual(splitHostPort('1.1.1.1:5353'), { host: '1.1.1.1', port: 5353 });
  assert.deepEqual(splitHostPort('fd00::1'), { host: 'fd00::1', port: 53 });
  assert.deepEqual(splitHostPort('[fd00::1]:5353'), { host: 'fd00::1', port: 5353 });
});
