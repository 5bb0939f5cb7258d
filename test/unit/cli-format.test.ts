// Tables, durations, sizes, ports and --since/--until parsing, as docker prints and reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tabulate, ellipsis, ago, formatPorts, containerRow, imageRows, renderRows, parseFormat, defaultPsTable, containerHeaders,
  defaultImagesTable, imageHeaders, parseTimestamp, parseGoDuration, sizeColumn, goJson, rfc3339,
} from '../../src/cli/format.ts';
import { renderTemplate, withGoNames } from '../../src/cli/template.ts';
import type { ContainerSummary, ImageSummary } from '../../src/client/types.ts';
import { statsRow } from '../../src/cli/container.ts';

const NOW = 1_700_000_000_000;
const now = NOW / 1000;

const containers: ContainerSummary[] = [
  { Id: 'a'.repeat(64), Names: ['/web'], Image: 'nginx:latest', ImageID: `sha256:${'b'.repeat(64)}`, Command: '/docker-entrypoint.sh nginx -g daemon off;', Created: now - 300,
    Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { PrivatePort: 443, Type: 'tcp' }, { PrivatePort: 444, Type: 'tcp' }], Labels: { x: 'y' }, State: 'running', Status: 'Up 5 minutes' },
  { Id: 'c'.repeat(64), Names: ['/sleepy', '/web/alias'], Image: `sha256:${'d'.repeat(64)}`, ImageID: `sha256:${'d'.repeat(64)}`, Command: 'sleep 1000', Created: now - 7200, Ports: [], Labels: {}, State: 'exited', Status: 'Exited (0) 5 seconds ago' },
];

test('tabwriter: min width 10, padding 3, last column unpadded', () => {
  assert.equal(tabulate([['A', 'LONGER HEADER', 'Z'], ['abcdefghijk', 'x', 'last']]),
    'A             LONGER HEADER   Z\nabcdefghijk   x               last\n');
});

test('docker ps default table', () => {
  const spec = parseFormat(undefined, defaultPsTable);
  const text = renderRows(spec, containers.map((c) => containerRow(c, { trunc: true, now: NOW })), containerHeaders);
  assert.equal(text, [
    'CONTAINER ID   IMAGE          COMMAND                  CREATED         STATUS                     PORTS                               NAMES',
    'aaaaaaaaaaaa   nginx:latest   "/docker-entrypoint.…"   5 minutes ago   Up 5 minutes               443-444/tcp, 0.0.0.0:8080->80/tcp   web',
    'cccccccccccc   dddddddddddd   "sleep 1000"             2 hours ago     Exited (0) 5 seconds ago                                       sleepy',
    ''].join('\n'));
  const full = containerRow(containers[1], { trunc: false, now: NOW });
  assert.equal(full.Names, 'sleepy,web/alias');
  assert.equal(full.Image, `sha256:${'d'.repeat(64)}`);
});

test('custom formats: table with \\t, raw with method-style Label, json', () => {
  const rows = containers.map((c) => containerRow(c, { trunc: true, now: NOW }));
  assert.equal(renderRows(parseFormat('table {{.Names}}\\t{{.State}}', ''), rows, containerHeaders), 'NAMES     STATE\nweb       running\nsleepy    exited\n');
  assert.equal(renderRows(parseFormat('{{.ID}}: {{.Label "x"}}', ''), rows, containerHeaders), 'aaaaaaaaaaaa: y\ncccccccccccc: \n');
  const j = renderRows(parseFormat('json', ''), rows.slice(0, 1), containerHeaders);
  assert.ok(j.startsWith('{"Command":"\\"/docker-entrypoint.…\\"","CreatedAt":'));
  assert.ok(j.includes('"Ports":"443-444/tcp, 0.0.0.0:8080-\\u003e80/tcp"'));
  assert.equal(goJson('<a&b>'), '"\\u003ca\\u0026b\\u003e"');
});

test('docker images table: a row per tag, <none> for dangling', () => {
  const images: ImageSummary[] = [
    { Id: `sha256:${'e'.repeat(64)}`, ParentId: '', RepoTags: ['busybox:latest', 'localhost:5000/bb:1.0'], RepoDigests: [], Created: now - 86400 * 20, Size: 4261000, Labels: null, Containers: -1 },
    { Id: `sha256:${'f'.repeat(64)}`, ParentId: '', RepoTags: [], RepoDigests: [], Created: now - 3 * 3600, Size: 123456789, Labels: null, Containers: -1 },
  ];
  const text = renderRows(parseFormat(undefined, defaultImagesTable), imageRows(images, { trunc: true, now: NOW }), imageHeaders);
  assert.equal(text, [
    'REPOSITORY          TAG       IMAGE ID       CREATED       SIZE',
    'busybox             latest    eeeeeeeeeeee   2 weeks ago   4.26MB',
    'localhost:5000/bb   1.0       eeeeeeeeeeee   2 weeks ago   4.26MB',
    '<none>              <none>    ffffffffffff   3 hours ago   123MB',
    ''].join('\n'));
});

test('ellipsis, ago, sizes', () => {
  assert.equal(ellipsis('sleep 1000', 20), 'sleep 1000');
  assert.equal(ellipsis('/docker-entrypoint.sh nginx', 20), '/docker-entrypoint.…');
  assert.equal(ago(now - 0.5, NOW), 'Less than a second ago');
  assert.equal(ago(now - 1, NOW), '1 second ago');
  assert.equal(ago(now - 59, NOW), '59 seconds ago');
  assert.equal(ago(now - 90, NOW), 'About a minute ago');
  assert.equal(ago(now - 3600, NOW), 'About an hour ago');
  assert.equal(ago(now - 86400 * 3, NOW), '3 days ago');
  assert.equal(sizeColumn(0, 4261000), '0B (virtual 4.26MB)');
  assert.equal(sizeColumn(12345), '12.3kB');
});

test('ports: ranges merged, host mappings after, IPv6 bracketed', () => {
  assert.equal(formatPorts([]), '');
  assert.equal(formatPorts([{ IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }]),
    '0.0.0.0:8080->80/tcp, [::]:8080->80/tcp');
  assert.equal(formatPorts([{ IP: '0.0.0.0', PrivatePort: 81, PublicPort: 81, Type: 'tcp' }, { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 80, Type: 'tcp' }, { PrivatePort: 53, Type: 'udp' }]),
    '53/udp, 0.0.0.0:80-81->80-81/tcp');
});

test('--since/--until: durations, unix times, RFC3339 and dates', () => {
  assert.equal(parseGoDuration('10m'), 600);
  assert.equal(parseGoDuration('1h30m'), 5400);
  assert.equal(parseGoDuration('1.5s'), 1.5);
  assert.equal(parseGoDuration('abc'), undefined);
  assert.equal(parseTimestamp('10m', NOW), `${now - 600}.000000000`);
  assert.equal(parseTimestamp('1h', NOW), `${now - 3600}.000000000`);
  assert.equal(parseTimestamp('1699999999'), '1699999999');
  assert.equal(parseTimestamp('1699999999.5'), '1699999999.5');
  assert.equal(parseTimestamp('2023-11-14T22:13:20Z'), '1700000000.000000000');
  assert.equal(parseTimestamp('2023-11-14T22:13:20.25Z'), '1700000000.250000000');
  assert.equal(parseTimestamp('2023-11-14T23:13:20+01:00'), '1700000000.000000000');
  const local = new Date(2023, 10, 14, 0, 0, 0).getTime() / 1000;
  assert.equal(parseTimestamp('2023-11-14'), `${local}.000000000`);
  assert.throws(() => parseTimestamp('yesterday'), /failed to parse value as time or duration/);
});

test('stats row: block I/O and net I/O summed from the API figures, CPU % from the deltas', () => {
  const row = statsRow({
    id: 'a'.repeat(64), name: '/web',
    cpu_stats: { cpu_usage: { total_usage: 2e9 }, system_cpu_usage: 20e9, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 1e9 }, system_cpu_usage: 10e9 },
    memory_stats: { usage: 10 << 20, limit: 100 << 20, stats: { inactive_file: 2 << 20 } },
    pids_stats: { current: 3 },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 1500000 }, { op: 'write', value: 2000 }, { op: 'Total', value: 1502000 }] },
    networks: { eth0: { rx_bytes: 1000, tx_bytes: 2500000 }, eth1: { rx_bytes: 500, tx_bytes: 0 } },
  }, true);
  assert.equal(row.Container, 'aaaaaaaaaaaa', 'no name given: the short ID, as docker');
  assert.equal(row.CPUPerc, '20.00%');
  assert.equal(row.MemUsage, '8MiB / 100MiB');
  assert.equal(row.BlockIO, '1.5MB / 2kB');
  assert.equal(row.NetIO, '1.5kB / 2.5MB');
  assert.equal(row.PIDs, '3');
});

test('history times in RFC 3339, local zone', () => {
  const t = Date.UTC(2024, 4, 1, 10, 11, 12) / 1000;
  const d = new Date(t * 1000);
  const off = -d.getTimezoneOffset();
  const expected = off === 0 ? '2024-05-01T10:11:12Z' : undefined;
  if (expected) assert.equal(rfc3339(t), expected);
  assert.match(rfc3339(t), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  assert.equal(new Date(rfc3339(t)).getTime(), t * 1000, 'names the same instant');
});

test('{{json .}} of a listing row: sorted keys, HTML-sensitive characters escaped, as docker; other values as they are', () => {
  const rows = [{ Ports: '0.0.0.0:80->80/tcp', ID: 'abc', Labels: 'a=<b>' }];
  assert.equal(renderRows(parseFormat('{{json .}}', ''), rows, {}), '{"ID":"abc","Labels":"a=\\u003cb\\u003e","Ports":"0.0.0.0:80-\\u003e80/tcp"}\n');
  assert.equal(renderRows(parseFormat('{{json .Labels}}', ''), rows, {}), '"a=<b>"\n');
});

test('Go field names for templates, hidden from JSON', () => {
  const v = withGoNames({ ApiVersion: '1.44', id: 'x' }, { APIVersion: 'ApiVersion', ID: 'id', Status: 'status' });
  assert.equal(renderTemplate('{{.APIVersion}} {{.ID}} [{{.Status}}] {{json .}}', v), '1.44 x [] {"ApiVersion":"1.44","id":"x"}');
});
