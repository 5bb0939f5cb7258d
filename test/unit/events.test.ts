// /events filters: docker's matching rules and refusal of unknown filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventMatcher } from '../../src/api/routes/system.ts';
import type { EngineEvent } from '../../src/services/events/bus.ts';

const ev = (Type: EngineEvent['Type'], Action: string, ID: string, Attributes: Record<string, string> = {}): EngineEvent =>
  ({ Type, Action, Actor: { ID, Attributes }, scope: 'local', time: 1, timeNano: 1e9 });

test('filters: type, event (with the part before a colon), container by name or ID prefix, image, labels', () => {
  const start = ev('container', 'start', 'abc123', { name: 'web', image: 'busybox:latest', tier: 'front' });
  const health = ev('container', 'health_status: healthy', 'abc123', { name: 'web' });
  const pull = ev('image', 'tag', 'sha256:ff', { name: 'busybox:latest' });
  assert.equal(eventMatcher({})(start), true);
  assert.equal(eventMatcher({ type: ['image'] })(start), false);
  assert.equal(eventMatcher({ type: ['image', 'container'] })(start), true);
  assert.equal(eventMatcher({ event: ['health_status'] })(health), true);
  assert.equal(eventMatcher({ event: ['health_status: healthy'] })(health), true);
  assert.equal(eventMatcher({ event: ['die'] })(health), false);
  assert.equal(eventMatcher({ container: ['web'] })(start), true);
  assert.equal(eventMatcher({ container: ['abc'] })(start), true);
  assert.equal(eventMatcher({ container: ['db'] })(start), false);
  assert.equal(eventMatcher({ container: ['web'] })(pull), false);
  assert.equal(eventMatcher({ image: ['busybox'] })(start), true);
  assert.equal(eventMatcher({ image: ['busybox:latest'] })(pull), true);
  assert.equal(eventMatcher({ label: ['tier=front'] })(start), true);
  assert.equal(eventMatcher({ label: ['tier=front', 'other'] })(start), false, 'all labels must match');
});

test('unknown filters and types are refused', () => {
  assert.throws(() => eventMatcher({ colour: ['red'] }), /invalid filter 'colour'/);
  assert.throws(() => eventMatcher({ type: ['boat'] }), /unknown event type/);
});
