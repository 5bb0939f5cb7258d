// Go-style boolean flags (`--rm=false`) become commander's forms; container arguments are untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram } from '../../src/cli/commands.ts';
import { normalizeBooleanFlags } from '../../src/cli/argv.ts';

const norm = (...args: string[]) => normalizeBooleanFlags(buildProgram(), ['node', 'tug', ...args]).slice(2);

test('--flag=true and --flag=false', () => {
  assert.deepEqual(norm('attach', '--sig-proxy=false', 'box'), ['attach', '--no-sig-proxy', 'box']);
  assert.deepEqual(norm('run', '--rm=true', '-d=1', 'busybox'), ['run', '--rm', '-d=1', 'busybox']);
  assert.deepEqual(norm('run', '--rm=false', '--interactive=true', 'busybox', 'sh'), ['run', '--interactive', 'busybox', 'sh']);
  assert.deepEqual(norm('container', 'run', '--tty=false', 'busybox'), ['container', 'run', 'busybox']);
});

test('values of options and the container command are left alone', () => {
  assert.deepEqual(norm('-H', 'unix:///x', 'run', '-e', 'A=--rm=false', '--name', 'n', 'busybox', 'app', '--rm=false'),
    ['-H', 'unix:///x', 'run', '-e', 'A=--rm=false', '--name', 'n', 'busybox', 'app', '--rm=false']);
  assert.deepEqual(norm('exec', '-it', 'box', 'sh', '--tty=false'), ['exec', '-it', 'box', 'sh', '--tty=false']);
  assert.deepEqual(norm('run', '--name=x', '--memory=1g', 'busybox'), ['run', '--name=x', '--memory=1g', 'busybox']);
  assert.deepEqual(norm('ps', '--all=maybe'), ['ps', '--all=maybe']);
});
