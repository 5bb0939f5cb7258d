// The Go text/template subset used by --format and inspect -f.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate as r, TemplateError, goString } from '../../src/cli/template.ts';

const c = {
  Id: 'abc', Name: '/web',
  State: { Pid: 1234, Running: true, ExitCode: 0, Health: null },
  Config: { Env: ['A=1', 'B=2'], Labels: { 'com.x': 'y', a: 'b' }, Cmd: ['sleep', '10'], Tty: false },
  NetworkSettings: { Networks: { bridge: { IPAddress: '172.17.0.2' } } },
};

test('fields, nested fields, Go printing of values', () => {
  assert.equal(r('{{.State.Pid}}', c), '1234');
  assert.equal(r('{{.Name}}', c), '/web');
  assert.equal(r('{{.Config.Cmd}}', c), '[sleep 10]');
  assert.equal(r('{{.Config.Labels}}', c), 'map[a:b com.x:y]');
  assert.equal(r('{{.State.Health}}', c), '<nil>');
  assert.equal(r('{{.State.Nope}}', c), '<no value>');
  assert.equal(r('{{.Config.Tty}} {{.State.Running}}', c), 'false true');
  assert.equal(goString(1.5), '1.5');
  assert.throws(() => r('{{.State.Pid.X}}', c), TemplateError);
});

test('json, index, join, upper, len, printf, pipes', () => {
  assert.equal(r('{{json .Config.Labels}}', c), '{"com.x":"y","a":"b"}');
  assert.equal(r('{{json .}}', { a: [1] }), '{"a":[1]}');
  assert.equal(r('{{index .Config.Labels "com.x"}}', c), 'y');
  assert.equal(r('{{(index .NetworkSettings.Networks "bridge").IPAddress}}', c), '172.17.0.2');
  assert.equal(r('{{join .Config.Env ","}}', c), 'A=1,B=2');
  assert.equal(r('{{.Name | upper}}', c), '/WEB');
  assert.equal(r('{{len .Config.Env}}', c), '2');
  assert.equal(r('{{printf "%s=%d" .Name .State.Pid}}', c), '/web=1234');
  assert.equal(r('{{.Config.Cmd | json}}', c), '["sleep","10"]');
});

test('range, if/else, with, variables and trimming', () => {
  assert.equal(r('{{range .Config.Env}}[{{.}}]{{end}}', c), '[A=1][B=2]');
  assert.equal(r('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', c), 'a=b;com.x=y;');
  assert.equal(r('{{range $n, $net := .NetworkSettings.Networks}}{{$n}} {{$net.IPAddress}}{{end}}', c), 'bridge 172.17.0.2');
  assert.equal(r('{{if .State.Running}}up{{else}}down{{end}}', c), 'up');
  assert.equal(r('{{if .Config.Tty}}tty{{else if .State.Running}}running{{else}}no{{end}}', c), 'running');
  assert.equal(r('{{with .State}}{{.Pid}}{{end}}', c), '1234');
  assert.equal(r('{{range .Missing}}x{{else}}empty{{end}}', {}), 'empty');
  assert.equal(r('a  {{- .Name -}}  b', c), 'a/webb');
  assert.equal(r('{{if eq .State.Pid 1234}}yes{{end}}', c), 'yes');
  assert.equal(r('{{$.Name}}{{range .Config.Env}}{{$.Id}}{{end}}', c), '/webabcabc');
});

test('errors are reported, not thrown as crashes', () => {
  assert.throws(() => r('{{.Name', c), TemplateError);
  assert.throws(() => r('{{nosuchfunc .Name}}', c), /function "nosuchfunc" not defined/);
  assert.throws(() => r('{{if .Name}}x', c), /missing \{\{end\}\}/);
});
