// node --test: the wire codec (docs/protocol.md section 3), byte for byte as the C++ side encodes it.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as w from "../src/wire.js";

test("hello round-trips and matches the C++ layout", () => {
  const bits = new Uint8Array([0xa0]);
  const m = w.encodeHello({ peer: "web-1", video: "clip", chunkCount: 3, bitfield: bits });
  assert.deepEqual([...m], [0, 1, 5, ...Buffer.from("web-1"), 4, ...Buffer.from("clip"), 0, 0, 0, 3, 0xa0]);
  const d = w.decode(m);
  assert.equal(d.type, "hello"); assert.equal(d.peer, "web-1"); assert.equal(d.video, "clip");
  assert.equal(d.chunkCount, 3); assert.deepEqual([...d.bitfield], [0xa0]);
  assert.equal(w.bitfieldHas(d.bitfield, 0), 1); assert.equal(w.bitfieldHas(d.bitfield, 1), 0);
  assert.equal(w.bitfieldHas(d.bitfield, 2), 1);
});

test("hello refusals: spare bits, wrong bitfield length, bad version, bad peer id, truncation", () => {
  const ok = w.encodeHello({ peer: "p1", video: "v", chunkCount: 3 });
  const spare = ok.slice(); spare[spare.length - 1] = 0x01;
  assert.throws(() => w.decode(spare), /spare/);
  assert.throws(() => w.decode(ok.subarray(0, ok.length - 1)), /bitfield|truncated/);
  assert.throws(() => w.decode(new Uint8Array([...ok, 0])), /bitfield/);
  const ver = ok.slice(); ver[1] = 2;
  assert.throws(() => w.decode(ver), /version/);
  assert.throws(() => w.decode(w.encodeHello({ peer: "a b", video: "v", chunkCount: 1 })), /peer id/);
  assert.throws(() => w.decode(new Uint8Array([0, 1, 10, 65])), /truncated/);
  assert.throws(() => w.decode(w.encodeHello({ peer: "p", video: "v", chunkCount: 0, bitfield: new Uint8Array(0) })), /chunk count/);
});

test("request/have/cancel/reject/ping/pong encode and decode", () => {
  assert.deepEqual([...w.encodeRequest(258)], [1, 0, 0, 1, 2]);
  assert.deepEqual(w.decode(w.encodeRequest(258)), { type: "request", index: 258 });
  assert.deepEqual(w.decode(w.encodeHave(7)), { type: "have", index: 7 });
  assert.deepEqual(w.decode(w.encodeCancel(9)), { type: "cancel", index: 9 });
  assert.deepEqual(w.decode(w.encodeReject(4, w.REJECT.busy)), { type: "reject", index: 4, reason: 2 });
  assert.deepEqual([...w.encodePing(1n)], [6, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(w.decode(w.encodePong(2n ** 63n + 5n)).nonce, 2n ** 63n + 5n);
});

test("piece: layout, bounds, size limits", () => {
  const data = new Uint8Array([9, 8, 7]);
  const m = w.encodePiece(1, 65536, 65539, data);
  assert.deepEqual([...m.subarray(0, 13)], [2, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3]);
  const d = w.decode(m);
  assert.equal(d.index, 1); assert.equal(d.offset, 65536); assert.equal(d.chunkSize, 65539);
  assert.deepEqual([...d.data], [9, 8, 7]);
  assert.throws(() => w.decode(w.encodePiece(1, 65537, 65539, data)), /outside/);
  assert.throws(() => w.encodePiece(0, 0, 1 << 20, new Uint8Array(65537)), /too large/);
  assert.throws(() => w.decode(new Uint8Array(12).fill(0).map((_, i) => (i === 0 ? 2 : 0))), /truncated/);
});

test("malformed messages are protocol errors", () => {
  assert.throws(() => w.decode(new Uint8Array(0)), /empty/);
  assert.throws(() => w.decode(new Uint8Array([8])), /unknown/);
  assert.throws(() => w.decode(new Uint8Array([1, 0, 0, 0])), /length/);
  assert.throws(() => w.decode(new Uint8Array([1, 0, 0, 0, 0, 0])), /length/);
  assert.throws(() => w.decode(new Uint8Array([6, 0])), /length/);
  assert.throws(() => w.decode(new Uint8Array(w.MAX_MESSAGE + 1).fill(2)), /too large/);
});

test("bitfield base64 matches the signaller's examples", () => {
  const b = new Uint8Array(2);
  for (let i = 0; i < 10; i++) w.bitfieldSet(b, i);
  assert.equal(w.bitfieldToBase64(b), "/8A=");  // docs/protocol.md: 10 chunks, all held
});
