import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxPool } from '../../src/services/network/pool.js';
import type { Sandboxes, SandboxRecord } from '../../src/services/network/sandbox.js';
import type { Attachment } from '../../src/services/network/bridge.js';
import type { NetworkRecord } from '../../src/services/network/types.js';

// A pool over fake namespaces: what it makes and undoes is counted, records are moved between two fake stores.
function fakePool(size = 2, refillDelayMs = 150) {
  const made: string[] = [];
  const undone: string[] = [];
  const store = (): Sandboxes & { ids: Set<string> } => {
    const ids = new Set<string>();
    return {
      ids,
      create: async (id: string): Promise<SandboxRecord> => { ids.add(id); return { netns: `/run/netns/fake-${id.slice(0, 8)}`, links: [] }; },
      moveTo: async (id: string, other: Sandboxes & { ids: Set<string> }, newId: string) => { ids.delete(id); other.ids.add(newId); },
    } as unknown as Sandboxes & { ids: Set<string> };
  };
  const premade = store();
  const containers = store();
  const pool = new SandboxPool({
    sandboxes: premade,
    size,
    make: async (_net, id) => { made.push(id); return { ip: `10.0.0.${made.length + 1}` } as Attachment; },
    undo: async (id) => { undone.push(id); premade.ids.delete(id); },
    refillDelayMs,
  });
  const net = { Id: 'n1', Name: 'bridge' } as NetworkRecord;
  const settle = () => sleep(refillDelayMs + 100); // past the refill delay
  return { pool, net, made, undone, premade, containers, settle };
}

test('a namespace given back before its refill is due is taken again as it is, and nothing new is made', async () => {
  const { pool, net, made, premade, containers, settle } = fakePool();
  pool.fill(net);
  await settle();
  assert.equal(made.length, 2);
  const w = pool.take(net)!;
  await pool.handOver(w, net, containers, 'c1');
  assert.ok(containers.ids.has('c1') && !premade.ids.has(w.id));
  assert.equal(await pool.takeBack('c1', containers, true), true);
  assert.ok(premade.ids.has(w.id) && !containers.ids.has('c1'), 'the record is the pool\'s again');
  await settle();
  assert.equal(made.length, 2, 'no refill for a namespace that came back');
  const again = [pool.take(net), pool.take(net)];
  assert.ok(again.includes(w));
  await settle();
});

test('containers one after another, each giving its namespace back: the refill due for an earlier one is not made', async () => {
  const { pool, net, made, containers, settle } = fakePool(2, 400);
  pool.fill(net);
  await settle();
  await pool.handOver(pool.take(net)!, net, containers, 'first');
  assert.equal(await pool.takeBack('first', containers, true), true);
  await sleep(200);
  await pool.handOver(pool.take(net)!, net, containers, 'second');
  await sleep(300); // the first one's refill came due while the second one was out
  assert.equal(await pool.takeBack('second', containers, true), true);
  await settle();
  assert.equal(made.length, 2, 'no namespace made, none to undo');
});

test('one kept, one changed, one pool already full: refills and give-backs as each case needs', async () => {
  const { pool, net, made, settle, containers } = fakePool();
  pool.fill(net);
  await settle();
  // still running when the refill is due: the pool makes a new one
  const long = pool.take(net)!;
  await pool.handOver(long, net, containers, 'long');
  await settle();
  assert.equal(made.length, 3);
  // the pool is full again, so the late one cannot come back
  assert.equal(await pool.takeBack('long', containers, true), false);
  // a changed namespace never comes back, and the refill replaces it
  const changed = pool.take(net)!;
  await pool.handOver(changed, net, containers, 'changed');
  assert.equal(await pool.takeBack('changed', containers, false), false);
  await settle();
  assert.equal(made.length, 4);
  // a container that never took one from the pool has nothing to give back
  assert.equal(await pool.takeBack('stranger', containers, true), false);
});

test('once emptied at daemon stop, the pool makes nothing more, even when a refill comes due', async () => {
  const { pool, net, made, undone, premade, containers, settle } = fakePool();
  pool.fill(net);
  await settle();
  await pool.handOver(pool.take(net)!, net, containers, 'c1');
  await pool.dropAll();
  await settle();
  assert.equal(made.length, 2);
  assert.equal(undone.length, 1, 'the ready one is undone');
  assert.equal(premade.ids.size, 0, 'nothing left in the pool\'s records');
});
