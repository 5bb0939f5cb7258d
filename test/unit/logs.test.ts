// The k8s-file log reader and the rotation rules behind `tug logs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, appendFileSync, renameSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLine, readExisting, LogFollower, type LogEntry } from '../../src/services/logs/k8sfile.ts';
import { logLimits, rotateIfNeeded } from '../../src/services/logs/rotate.ts';
import { addReader, removeReader, readersDone } from '../../src/services/logs/readers.ts';

const all = { stdout: true, stderr: true, since: 0, until: 0, tail: -1 };
const line = (sec: number, stream: string, tag: string, text: string) => `2026-01-01T00:00:${String(sec).padStart(2, '0')}.000000001+00:00 ${stream} ${tag} ${text}\n`;

test('parseLine: full lines get their newline back, partial lines none, junk is skipped', () => {
  const f = parseLine(Buffer.from('2026-01-01T00:00:00.5Z stdout F hello world'));
  assert.equal(f?.stream, 'stdout');
  assert.equal(f?.data.toString(), 'hello world\n');
  const p = parseLine(Buffer.from('2026-01-01T00:00:00.5Z stderr P part'));
  assert.equal(p?.data.toString(), 'part');
  assert.equal(parseLine(Buffer.from('garbage')), undefined);
  assert.equal(parseLine(Buffer.from('2026-01-01T00:00:00Z stdin F x')), undefined);
});

test('readExisting reads rotated files oldest first, filters streams, since/until and tail', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tuglogs-'));
  try {
    const path = join(dir, 'container.log');
    writeFileSync(`${path}.2`, line(1, 'stdout', 'F', 'one'));
    writeFileSync(`${path}.1`, line(2, 'stderr', 'F', 'two'));
    writeFileSync(path, line(3, 'stdout', 'F', 'three') + line(4, 'stdout', 'F', 'four'));
    const text = (es: LogEntry[]) => es.map((e) => e.data.toString().trim()).join(',');
    assert.equal(text((await readExisting(path, all)).entries), 'one,two,three,four');
    assert.equal(text((await readExisting(path, { ...all, stderr: false })).entries), 'one,three,four');
    assert.equal(text((await readExisting(path, { ...all, tail: 2 })).entries), 'three,four');
    assert.equal(text((await readExisting(path, { ...all, tail: 0 })).entries), '');
    const t2 = Date.parse('2026-01-01T00:00:02Z') / 1000;
    assert.equal(text((await readExisting(path, { ...all, since: t2 })).entries), 'two,three,four');
    assert.equal(text((await readExisting(path, { ...all, until: t2 + 0.5 })).entries), 'one,two');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('LogFollower delivers new lines, follows a rotation, and ends after finish()', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tuglogs-'));
  try {
    const path = join(dir, 'container.log');
    writeFileSync(path, line(1, 'stdout', 'F', 'old'));
    const { position } = await readExisting(path, all);
    const got: string[] = [];
    const ended = new Promise<void>((resolve) => {
      const f = new LogFollower(path, position, all, (e) => { got.push(e.data.toString().trim()); }, resolve);
      f.start();
      setTimeout(() => appendFileSync(path, line(2, 'stdout', 'F', 'a')), 50);
      setTimeout(() => { appendFileSync(path, line(3, 'stdout', 'F', 'b')); renameSync(path, `${path}.1`); writeFileSync(path, line(4, 'stdout', 'F', 'c')); }, 150);
      setTimeout(() => f.finish(), 400);
    });
    await ended;
    assert.deepEqual(got, ['a', 'b', 'c']);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('LogFollower: the writer finishing while a read is under way still delivers its last lines', { timeout: 5000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tuglogs-'));
  try {
    const path = join(dir, 'container.log');
    writeFileSync(path, line(1, 'stdout', 'F', 'first'));
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      const f = new LogFollower(path, { ino: 0, offset: 0 }, all, (e) => {
        const text = e.data.toString().trim();
        got.push(text);
        // the read that delivers "first" has already taken the file's bytes: the last line and the exit come now
        if (text === 'first') { appendFileSync(path, line(2, 'stdout', 'F', 'last')); f.finish(); }
      }, resolve);
      f.start();
    });
    assert.deepEqual(got, ['first', 'last']);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('rotation keeps max-file files and starts a fresh live file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tuglogs-'));
  try {
    const path = join(dir, 'container.log');
    const limits = logLimits({ 'max-size': '1k', 'max-file': '3' });
    assert.deepEqual(limits, { maxSize: 1024, maxFile: 3 });
    for (let i = 0; i < 5; i++) {
      writeFileSync(path, 'x'.repeat(2000));
      assert.equal(await rotateIfNeeded(path, limits), true);
    }
    writeFileSync(path, 'small');
    assert.equal(await rotateIfNeeded(path, limits), false);
    assert.deepEqual(readdirSync(dir).sort(), ['container.log', 'container.log.1', 'container.log.2']);
    assert.throws(() => logLimits({ 'max-file': '0' }), /max-file/);
    assert.throws(() => logLimits({ 'max-size': 'huge' }), /invalid size/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('rotation keeps the files a lagging follower has not read, and trims them once nobody needs them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tug-logpin-'));
  try {
    const path = join(dir, 'c.log');
    const limits = { maxSize: 10, maxFile: 2 };
    writeFileSync(path, line(1, 'stdout', 'F', 'first file'));
    const firstIno = statSync(path).ino;
    const lagging = { readingIno: () => firstIno };
    addReader(path, lagging);
    for (let i = 2; i <= 4; i++) {
      assert.equal(await rotateIfNeeded(path, limits), true);
      writeFileSync(path, line(i, 'stdout', 'F', `file ${i}`));
    }
    assert.deepEqual(readdirSync(dir).sort(), ['c.log', 'c.log.1', 'c.log.2', 'c.log.3'], 'nothing deleted while a follower lags');
    // the follower, started at the oldest file, reads every file in order
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      const f = new LogFollower(path, { ino: firstIno, offset: 0 }, all, (e) => { got.push(e.data.toString().trim()); }, resolve);
      f.start();
      f.finish();
    });
    assert.deepEqual(got, ['first file', 'file 2', 'file 3', 'file 4']);
    removeReader(path, lagging);
    assert.equal(await rotateIfNeeded(path, limits), true);
    assert.deepEqual(readdirSync(dir).sort(), ['c.log.1'], 'back to max-file once nobody reads the old ones');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readersDone: at once without followers, when the last follower leaves, or at the time limit', async () => {
  const path = '/nonexistent/readers-done.log';
  let done = false;
  await readersDone(path, 10_000);
  const a = { readingIno: () => 1 };
  const b = { readingIno: () => 1 };
  addReader(path, a);
  addReader(path, b);
  const waiting = readersDone(path, 10_000).then(() => { done = true; });
  removeReader(path, a);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(done, false, 'one follower still reads');
  removeReader(path, b);
  await waiting;
  assert.equal(done, true);
  addReader(path, a);
  const started = Date.now();
  await readersDone(path, 100);
  assert.ok(Date.now() - started >= 90, 'a follower that never leaves holds removal only until the time limit');
  removeReader(path, a);
});
