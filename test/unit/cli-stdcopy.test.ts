// The stdcopy demultiplexer and the JSON message splitter, fed in awkward chunks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Demuxer, frame, demuxStream } from '../../src/client/stdcopy.ts';
import { splitJson, jsonMessages } from '../../src/client/jsonstream.ts';

const frames = Buffer.concat([frame(1, 'hello '), frame(2, 'warn\n'), frame(1, 'world\n'), frame(1, ''), frame(2, Buffer.alloc(70000, 0x61))]);

function collect(chunks: Buffer[]) {
  const got: Array<[number, string]> = [];
  const d = new Demuxer((s, p) => {
    const last = got[got.length - 1];
    if (last && last[0] === s) last[1] += p.toString(); else got.push([s, p.toString()]);
  });
  for (const c of chunks) d.push(c);
  return { got, pending: d.pending };
}

test('whole buffer', () => {
  const { got, pending } = collect([frames]);
  assert.deepEqual(got.map(([s, p]) => [s, p.length]), [[1, 6], [2, 5], [1, 6], [2, 70000]]);
  assert.equal(pending, 0);
});

test('split at every byte boundary, including inside headers', () => {
  const expect = collect([frames]).got;
  for (const size of [1, 3, 7, 8, 9, 13, 4096]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < frames.length; i += size) chunks.push(frames.subarray(i, i + size));
    assert.deepEqual(collect(chunks).got, expect, `chunk size ${size}`);
  }
});

test('an incomplete trailing frame waits for more data', () => {
  const f = frame(1, 'abcdef');
  const { got, pending } = collect([f.subarray(0, 10)]);
  assert.deepEqual(got, []);
  assert.equal(pending, 10);
});

test('demuxStream routes to stdout and stderr sinks; systemerr rejects', async () => {
  const src = new PassThrough();
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c) => o.push(c));
  err.on('data', (c) => e.push(c));
  const p = demuxStream(src, out, err);
  src.write(frame(1, 'a').subarray(0, 5));
  src.write(Buffer.concat([frame(1, 'a').subarray(5), frame(2, 'b')]));
  src.end();
  await p;
  assert.equal(Buffer.concat(o).toString(), 'a');
  assert.equal(Buffer.concat(e).toString(), 'b');
  const s2 = new PassThrough();
  const p2 = demuxStream(s2, new PassThrough(), new PassThrough());
  s2.end(frame(3, 'boom'));
  await assert.rejects(p2, /boom/);
});

test('JSON messages split across chunks and packed together', async () => {
  assert.deepEqual(splitJson('{"a":1}{"b":"}{"}\n{"c'), { values: [{ a: 1 }, { b: '}{' }], rest: '\n{"c' });
  const body = new PassThrough();
  const seen: unknown[] = [];
  const done = (async () => { for await (const m of jsonMessages(body)) seen.push(m); })();
  body.write('{"status":"Impo');
  body.write('rting"}\n{"status":"sha256:ab\\"c"}');
  body.end('\n');
  await done;
  assert.deepEqual(seen, [{ status: 'Importing' }, { status: 'sha256:ab"c' }]);
});
