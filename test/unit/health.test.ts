// Health check rules: results folding, effective check, HEALTHCHECK parsing, field-by-field merge, CLI flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyResult, effectiveCheck } from '../../src/services/containers/health.ts';
import { parseHealthcheck } from '../../src/services/images/changes.ts';
import { mergeHealthcheck } from '../../src/services/containers/create.ts';
import { healthFlags } from '../../src/cli/runopts.ts';
import type { ContainerRecord, HealthState } from '../../src/services/containers/types.ts';

const result = (code: number) => ({ Start: '', End: '', ExitCode: code, Output: '' });

test('a success makes it healthy; failures count only outside the start period, up to retries', () => {
  const s: HealthState = { Status: 'starting', FailingStreak: 0, Log: [] };
  assert.equal(applyResult(s, result(1), 2, true), false);
  assert.equal(s.FailingStreak, 0, 'start period failures do not count');
  assert.equal(applyResult(s, result(0), 2, true), true);
  assert.equal(s.Status, 'healthy');
  assert.equal(applyResult(s, result(1), 2, true), false, 'once healthy, the start period no longer shields failures');
  assert.equal(s.FailingStreak, 1);
  assert.equal(applyResult(s, result(1), 2, false), true);
  assert.equal(s.Status, 'unhealthy');
  for (let i = 0; i < 10; i++) applyResult(s, result(1), 2, false);
  assert.equal(s.Log.length, 5);
  assert.equal(s.FailingStreak, 12);
});

test('effective check: CMD, CMD-SHELL with the image shell, NONE, defaults', () => {
  const rec = (Healthcheck: unknown, Shell?: string[]) => ({ Config: { Healthcheck, Shell } }) as unknown as ContainerRecord;
  assert.equal(effectiveCheck(rec(undefined)), undefined);
  assert.equal(effectiveCheck(rec({ Test: ['NONE'] })), undefined);
  const c = effectiveCheck(rec({ Test: ['CMD-SHELL', 'curl -f x'] }))!;
  assert.deepEqual(c.cmd, ['/bin/sh', '-c', 'curl -f x']);
  assert.equal(c.intervalMs, 30000);
  assert.equal(c.retries, 3);
  assert.deepEqual(effectiveCheck(rec({ Test: ['CMD-SHELL', 'x'] }, ['/bin/bash', '-ec']))!.cmd, ['/bin/bash', '-ec', 'x']);
  assert.deepEqual(effectiveCheck(rec({ Test: ['CMD', 'true', 'a b'], Interval: 2e9 }))!, { cmd: ['true', 'a b'], intervalMs: 2000, timeoutMs: 30000, startPeriodMs: 0, startIntervalMs: 5000, retries: 3 });
});

test('HEALTHCHECK instruction parsing', () => {
  assert.deepEqual(parseHealthcheck('--interval=5s --timeout=3s --retries=4 CMD curl -f http://localhost/ || exit 1'),
    { Interval: 5e9, Timeout: 3e9, Retries: 4, Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'] });
  assert.deepEqual(parseHealthcheck('CMD ["true"]'), { Test: ['CMD', 'true'] });
  assert.deepEqual(parseHealthcheck('NONE'), { Test: ['NONE'] });
  assert.throws(() => parseHealthcheck('--bogus=1 CMD true'), /unknown flag/);
  assert.throws(() => parseHealthcheck('--interval=soon CMD true'), /invalid --interval/);
  assert.throws(() => parseHealthcheck('RUN true'), /expected NONE or CMD/);
});

test('container check overrides the image check field by field; bad durations refused', () => {
  assert.deepEqual(mergeHealthcheck({ Interval: 1e9 }, { Test: ['CMD', 'true'], Interval: 5e9, Retries: 2 }),
    { Test: ['CMD', 'true'], Interval: 1e9, Timeout: undefined, StartPeriod: undefined, StartInterval: undefined, Retries: 2 });
  assert.throws(() => mergeHealthcheck({ Interval: 10 }, undefined), /Interval in Healthcheck cannot be less than 1ms/);
  assert.throws(() => mergeHealthcheck({ Retries: -1 }, undefined), /Retries in Healthcheck cannot be negative/);
});

test('--health-* flags become Config.Healthcheck as the docker CLI builds it', () => {
  assert.equal(healthFlags({}), undefined);
  assert.deepEqual(healthFlags({ healthcheck: false }), { Test: ['NONE'] });
  assert.deepEqual(healthFlags({ healthCmd: 'true', healthInterval: '1m30s', healthRetries: '5' }),
    { Test: ['CMD-SHELL', 'true'], Interval: 90e9, Timeout: 0, StartPeriod: 0, StartInterval: 0, Retries: 5 });
  assert.throws(() => healthFlags({ healthcheck: false, healthCmd: 'x' }), /conflicts/);
  assert.throws(() => healthFlags({ healthTimeout: 'x' }), /invalid duration "x"/);
});
