import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Authenticator, parseBasic, SERVICE } from '../../src/registry/auth.js';
import { Htpasswd, parseHtpasswd } from '../../src/registry/htpasswd.js';
import { covers, loadSecret, parseScopes, signToken, verifyToken } from '../../src/registry/token.js';

const secret = Buffer.alloc(32, 7);
const now = 1_700_000_000;
const claims = { sub: 'alice', aud: SERVICE, access: [{ type: 'repository', name: 'a/b', actions: ['pull'] }], iat: now, exp: now + 300 };
// made by `htpasswd -Bbn alice s3cret`
const ALICE = 'alice:$2y$05$NJox2kaXSGc47Hzbn3c5EeaHEuZ6DGyn2OpakNwdjegR7wVYq/3qi';

test('tokens: what is signed verifies until it expires, for its audience only', () => {
  const t = signToken(secret, claims);
  assert.deepEqual(verifyToken(secret, t, SERVICE, now + 1), claims);
  assert.equal(verifyToken(secret, t, SERVICE, now + 300), undefined, 'expired');
  assert.equal(verifyToken(secret, t, 'other-service', now), undefined);
  assert.equal(verifyToken(Buffer.alloc(32, 8), t, SERVICE, now), undefined, 'another secret');
});

test('tokens: any change to the claims or signature is refused', () => {
  const t = signToken(secret, claims);
  const [payload, sig] = t.split('.');
  const forged = Buffer.from(JSON.stringify({ ...claims, access: [{ type: 'repository', name: 'a/b', actions: ['*'] }] })).toString('base64url');
  assert.equal(verifyToken(secret, `${forged}.${sig}`, SERVICE, now), undefined);
  assert.equal(verifyToken(secret, `${payload}.${sig.slice(0, -2)}AA`, SERVICE, now), undefined);
  for (const bad of ['', payload, `${payload}.`, `${t}.x`, 'a.b', `${Buffer.from('nope').toString('base64url')}.${sig}`]) assert.equal(verifyToken(secret, bad, SERVICE, now), undefined, bad);
});

test('scopes: several per parameter, names with a port, and what grants cover', () => {
  assert.deepEqual(parseScopes(['repository:a/b:pull,push repository:c:pull', 'registry:catalog:*', 'repository:localhost:5000/x:pull', 'junk', 'repository:x']), [
    { type: 'repository', name: 'a/b', actions: ['pull', 'push'] },
    { type: 'repository', name: 'c', actions: ['pull'] },
    { type: 'registry', name: 'catalog', actions: ['*'] },
    { type: 'repository', name: 'localhost:5000/x', actions: ['pull'] },
  ]);
  const grants = parseScopes(['repository:a/b:pull,push repository:c:* registry:catalog:*']);
  assert.ok(covers(grants, parseScopes(['repository:a/b:pull'])));
  assert.ok(covers(grants, parseScopes(['repository:a/b:pull,push repository:c:delete'])));
  assert.ok(covers(grants, []));
  assert.equal(covers(grants, parseScopes(['repository:a/b:delete'])), false);
  assert.equal(covers(grants, parseScopes(['repository:a:pull'])), false);
  assert.equal(covers(grants, parseScopes(['registry:other:*'])), false);
});

test('Basic credentials: user and password, the password may hold colons', () => {
  const h = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  assert.deepEqual(parseBasic(h('alice:s3:cr:et')), { user: 'alice', password: 's3:cr:et' });
  assert.deepEqual(parseBasic(`basic  ${Buffer.from('a:').toString('base64')} `), { user: 'a', password: '' });
  assert.equal(parseBasic(h('no-colon')), undefined);
  assert.equal(parseBasic('Bearer abc'), undefined);
  assert.equal(parseBasic(undefined), undefined);
});

test('htpasswd: bcrypt entries (htpasswd -B and bcryptjs) are checked, other kinds skipped with a warning', async () => {
  const warnings: string[] = [];
  const users = parseHtpasswd(`# users\n${ALICE}\nbob:${bcrypt.hashSync('pw-bob', 4)}\ncarol:$apr1$abc$defghijklmnopqrstuvwx\n\n`, (m) => warnings.push(m));
  assert.deepEqual([...users.keys()], ['alice', 'bob']);
  assert.deepEqual(warnings, ['htpasswd line 4: not a bcrypt entry, ignored']);

  const dir = mkdtempSync(join(tmpdir(), 'tug-htpasswd-'));
  try {
    const file = join(dir, 'htpasswd');
    writeFileSync(file, `${ALICE}\n`);
    const h = new Htpasswd(file);
    assert.equal(await h.check('alice', 's3cret'), true);
    assert.equal(await h.check('alice', 's3cret'), true, 'again, from what was verified');
    assert.equal(await h.check('alice', 'S3cret'), false);
    assert.equal(await h.check('bob', 's3cret'), false);
    // a changed file is read again: alice's password changes, the remembered check no longer counts
    writeFileSync(file, `alice:${bcrypt.hashSync('new', 4)}\n`);
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    assert.equal(await h.check('alice', 's3cret'), false);
    assert.equal(await h.check('alice', 'new'), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the authenticator: tokens for good Basic credentials, identities from Basic or Bearer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tug-auth-'));
  try {
    writeFileSync(join(dir, 'htpasswd'), `${ALICE}\n`);
    const key = await loadSecret(dir);
    assert.deepEqual(await loadSecret(dir), key, 'one secret per root');
    const auth = new Authenticator(new Htpasswd(join(dir, 'htpasswd')), key, 'realm');
    const basic = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
    assert.equal(await auth.issue(`Basic ${Buffer.from('alice:x').toString('base64')}`, []), undefined);
    assert.equal(await auth.issue(undefined, []), undefined);
    const t = await auth.issue(basic, parseScopes(['repository:a/b:pull,push,bogus repository:Bad:pull registry:catalog:*']));
    assert.ok(t);
    assert.equal(t.token, t.access_token);
    assert.equal(t.expires_in, 300);
    const id = await auth.identify(`Bearer ${t.token}`);
    assert.deepEqual(id, { user: 'alice', grants: [{ type: 'repository', name: 'a/b', actions: ['pull', 'push'] }, { type: 'registry', name: 'catalog', actions: ['*'] }] });
    assert.ok(auth.allows(id, parseScopes(['repository:a/b:push'])));
    assert.equal(auth.allows(id, parseScopes(['repository:a/b:delete'])), false);
    assert.deepEqual(await auth.identify(basic), { user: 'alice', grants: 'all' });
    assert.equal(await auth.identify('Bearer nope'), undefined);
    assert.equal(auth.challenge('http://h/token', parseScopes(['repository:a/b:pull,push repository:c:pull'])),
      'Bearer realm="http://h/token",service="tug-registry",scope="repository:a/b:pull,push repository:c:pull"');
    assert.equal(auth.challenge('http://h/token', [], true), 'Bearer realm="http://h/token",service="tug-registry",error="insufficient_scope"');
    assert.equal(auth.basicChallenge(), 'Basic realm="realm"');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
