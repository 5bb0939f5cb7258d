import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges, splitWords } from '../../src/services/images/changes.js';

test('CMD and ENTRYPOINT in JSON and shell form', () => {
  assert.deepEqual(applyChanges({}, ['CMD ["/bin/sh","-c","echo hi"]']).Cmd, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(applyChanges({}, ['CMD echo "a b"']).Cmd, ['/bin/sh', '-c', 'echo "a b"']);
  assert.deepEqual(applyChanges({}, ['cmd [not json']).Cmd, ['/bin/sh', '-c', '[not json']);
  const c = applyChanges({ Cmd: ['old'] }, ['ENTRYPOINT ["/app"]']);
  assert.deepEqual(c.Entrypoint, ['/app']);
  assert.equal(c.Cmd, null, 'ENTRYPOINT resets an inherited CMD');
  const d = applyChanges({}, ['CMD ["x"]', 'ENTRYPOINT top -b']);
  assert.deepEqual(d.Cmd, ['x']);
  assert.deepEqual(d.Entrypoint, ['/bin/sh', '-c', 'top -b']);
});

test('ENV, LABEL in both forms, replacing earlier values', () => {
  const c = applyChanges({ Env: ['PATH=/bin', 'A=0'] }, ['ENV A=1 B="two words" C=x\\ y', 'ENV D some long value', 'LABEL a=b "c d"=e', 'LABEL legacy value here']);
  assert.deepEqual(c.Env, ['PATH=/bin', 'A=1', 'B=two words', 'C=x y', 'D=some long value']);
  assert.deepEqual(c.Labels, { a: 'b', 'c d': 'e', legacy: 'value here' });
});

test('EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, ONBUILD', () => {
  const c = applyChanges({ WorkingDir: '/srv' }, [
    'EXPOSE 80 53/udp 8000-8001', 'VOLUME ["/data", "/logs"]', 'VOLUME /cache /tmp/x', 'USER nobody:nogroup',
    'WORKDIR app', 'WORKDIR sub', 'STOPSIGNAL SIGTERM', 'ONBUILD RUN true',
  ]);
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} });
  assert.deepEqual(c.Volumes, { '/data': {}, '/logs': {}, '/cache': {}, '/tmp/x': {} });
  assert.equal(c.User, 'nobody:nogroup');
  assert.equal(c.WorkingDir, '/srv/app/sub');
  assert.equal(c.StopSignal, 'SIGTERM');
  assert.deepEqual(c.OnBuild, ['RUN true']);
  assert.equal(applyChanges({}, ['WORKDIR /abs']).WorkingDir, '/abs');
});

test('does not mutate its input', () => {
  const base = { Env: ['A=1'] };
  applyChanges(base, ['ENV A=2']);
  assert.deepEqual(base, { Env: ['A=1'] });
});

test('clear errors for unsupported or malformed changes', () => {
  assert.throws(() => applyChanges({}, ['RUN echo hi']), /RUN is not a valid change command/);
  assert.throws(() => applyChanges({}, ['FROM scratch']), /FROM is not a valid change command/);
  assert.throws(() => applyChanges({}, ['EXPOSE abc']), /invalid containerPort: abc/);
  assert.throws(() => applyChanges({}, ['ENV =x']), /names can not be blank/);
  assert.throws(() => applyChanges({}, ['USER']), /requires at least one argument/);
  assert.throws(() => applyChanges({}, ['ENV A="open']), /unterminated quote/);
});

test('splitWords handles quotes and escapes', () => {
  assert.deepEqual(splitWords(`a "b c" 'd e' f\\ g ""`), ['a', 'b c', 'd e', 'f g', '']);
});
