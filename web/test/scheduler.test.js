// node --test: peer choice and prefetch order (src/scheduler.js), and the chunk LRU (src/lru.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Scheduler } from "../src/scheduler.js";
import { ChunkLru } from "../src/lru.js";

test("pickPeer spreads requests over holders, then prefers low RTT, skips banned and unconnected", () => {
  const s = new Scheduler(10, { maxInflightPerPeer: 2 });
  for (const p of ["native", "webA", "webB"]) s.addHolder(p, 3);
  s.setRtt("native", 1); s.setRtt("webA", 5);
  const conn = new Set(["native", "webA"]);
  assert.equal(s.pickPeer(3, conn), "native");
  s.started("native");
  assert.equal(s.pickPeer(3, conn), "webA");       // fewer in flight wins over lower RTT
  s.started("webA"); s.started("native"); s.started("webA");
  assert.equal(s.pickPeer(3, conn), null);          // everyone at the cap
  s.finished("webA");
  assert.equal(s.pickPeer(3, conn), "webA");
  assert.equal(s.pickPeer(3, conn, new Set(["webA"])), null);
  s.ban("webA");
  s.addHolder("webA", 3);                           // a banned peer's announcements are ignored
  assert.deepEqual(s.holdersOf(3).sort(), ["native", "webB"]);
  assert.equal(s.pickPeer(4, conn), null);          // nobody holds chunk 4
});

test("prefetchOrder: rarest first, nearer first among equals, skips held and unheld chunks", () => {
  const s = new Scheduler(8);
  s.addHolder("a", 2); s.addHolder("b", 2); s.addHolder("a", 3); s.addHolder("a", 5); s.addHolder("b", 6);
  s.addHolder("a", 99);                             // out of range: ignored
  const held = new Set([5]);
  assert.deepEqual(s.prefetchOrder(1, 6, (i) => held.has(i)), [3, 6, 2]);
  assert.deepEqual(s.prefetchOrder(0, 3, () => false), [2]);
  s.removePeer("a");
  assert.deepEqual(s.prefetchOrder(0, 8, () => false), [2, 6]);
});

test("ChunkLru keeps at most maxBytes, evicting the least recently used", () => {
  const l = new ChunkLru(10);
  assert.deepEqual(l.put(1, new Uint8Array(4)), []);
  assert.deepEqual(l.put(2, new Uint8Array(4)), []);
  l.get(1);                                          // 2 is now the oldest
  assert.deepEqual(l.put(3, new Uint8Array(4)), [2]);
  assert.equal(l.bytes, 8); assert.ok(l.has(1) && l.has(3) && !l.has(2));
  assert.deepEqual(l.put(4, new Uint8Array(11)), [4]); // larger than the bound: not kept
  assert.ok(!l.has(4));
  l.put(3, new Uint8Array(2));                       // replacing updates the byte count
  assert.equal(l.bytes, 6);
});

test("strikes: counted in a row per peer, cleared by a delivery and by a ban, bounded", () => {
  const s = new Scheduler(4);
  assert.equal(s.strike("liar"), 1);
  assert.equal(s.strike("liar"), 2);
  assert.equal(s.strike("slow"), 1);
  for (const p of ["liar", "slow", "good"]) s.addHolder(p, 2);
  const all = new Set(["liar", "slow", "good"]);
  s.started("good"); s.started("good");
  assert.equal(s.pickPeer(2, all), "good");          // a peer with strikes comes after one without, even a busier one
  s.finished("good"); s.finished("good");
  s.delivered("slow");
  assert.equal(s.strike("slow"), 1);
  s.addHolder("liar", 1);
  s.ban("liar");
  assert.equal(s.strikes.has("liar"), false);
  assert.deepEqual(s.holdersOf(1), []);
  for (let k = 0; k < 3000; k++) s.strike("sybil" + k);
  assert.equal(s.strikes.size, 1024);
});
