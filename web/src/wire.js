// Peer wire protocol (docs/protocol.md section 3): one data-channel message is one wire message, big-endian.
// Pure functions, shared by the browser client and node's unit tests.
export const MSG = { hello: 0, request: 1, piece: 2, have: 3, cancel: 4, reject: 5, ping: 6, pong: 7 };
export const REJECT = { notHeld: 1, busy: 2 };
export const MAX_BLOCK = 65536;
export const MAX_MESSAGE = 65536 + 64;
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

const enc = new TextEncoder();
const dec = new TextDecoder();

export function bitfieldBytes(n) { return (n + 7) >> 3; }

export function encodeHello({ peer, video, chunkCount, bitfield }) {
  const p = enc.encode(peer), v = enc.encode(video);
  if (p.length > 255 || v.length > 255) throw new Error("id too long");
  const bits = bitfield || new Uint8Array(bitfieldBytes(chunkCount));
  if (bits.length !== bitfieldBytes(chunkCount)) throw new Error("bitfield length");
  const m = new Uint8Array(2 + 1 + p.length + 1 + v.length + 4 + bits.length);
  const dv = new DataView(m.buffer);
  let o = 0;
  m[o++] = MSG.hello; m[o++] = 1;
  m[o++] = p.length; m.set(p, o); o += p.length;
  m[o++] = v.length; m.set(v, o); o += v.length;
  dv.setUint32(o, chunkCount); o += 4;
  m.set(bits, o);
  return m;
}

function u32msg(type, index) {
  const m = new Uint8Array(5);
  m[0] = type; new DataView(m.buffer).setUint32(1, index);
  return m;
}
export const encodeRequest = (i) => u32msg(MSG.request, i);
export const encodeHave = (i) => u32msg(MSG.have, i);
export const encodeCancel = (i) => u32msg(MSG.cancel, i);
export function encodeReject(i, reason) {
  const m = new Uint8Array(6);
  m[0] = MSG.reject; new DataView(m.buffer).setUint32(1, i); m[5] = reason;
  return m;
}
export function encodePiece(index, offset, chunkSize, data) {
  if (data.length > MAX_BLOCK) throw new Error("block too large");
  const m = new Uint8Array(13 + data.length);
  const dv = new DataView(m.buffer);
  m[0] = MSG.piece; dv.setUint32(1, index); dv.setUint32(5, offset); dv.setUint32(9, chunkSize);
  m.set(data, 13);
  return m;
}
function pingPong(type, nonce) {
  const m = new Uint8Array(9);
  m[0] = type; new DataView(m.buffer).setBigUint64(1, BigInt.asUintN(64, BigInt(nonce)));
  return m;
}
export const encodePing = (n) => pingPong(MSG.ping, n);
export const encodePong = (n) => pingPong(MSG.pong, n);

// Decodes one message; throws Error (a protocol error: the caller closes the link) on anything malformed.
// `data` is an ArrayBuffer or Uint8Array; piece data is a view into it (no copy).
export function decode(data) {
  const b = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (b.length === 0) throw new Error("empty message");
  if (b.length > MAX_MESSAGE) throw new Error("message too large");
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const need = (n) => { if (b.length !== n) throw new Error(`type ${b[0]}: length ${b.length}, want ${n}`); };
  switch (b[0]) {
    case MSG.hello: {
      let o = 1;
      const take = (n) => { if (o + n > b.length) throw new Error("hello truncated"); const s = o; o += n; return s; };
      const version = b[take(1)];
      if (version !== 1) throw new Error("hello version " + version);
      const pl = b[take(1)]; const peer = dec.decode(b.subarray(take(pl), o));
      const vl = b[take(1)]; const video = dec.decode(b.subarray(take(vl), o));
      const chunkCount = dv.getUint32(take(4));
      if (!ID_RE.test(peer)) throw new Error("hello: bad peer id");
      if (chunkCount === 0 || chunkCount > (1 << 20)) throw new Error("hello: bad chunk count");
      const n = bitfieldBytes(chunkCount);
      if (b.length - o !== n) throw new Error("hello: bitfield length");
      const bitfield = b.slice(o);
      const spare = n * 8 - chunkCount;
      if (spare && (bitfield[n - 1] & ((1 << spare) - 1))) throw new Error("hello: spare bits set");
      return { type: "hello", version, peer, video, chunkCount, bitfield };
    }
    case MSG.request: need(5); return { type: "request", index: dv.getUint32(1) };
    case MSG.have: need(5); return { type: "have", index: dv.getUint32(1) };
    case MSG.cancel: need(5); return { type: "cancel", index: dv.getUint32(1) };
    case MSG.reject: need(6); return { type: "reject", index: dv.getUint32(1), reason: b[5] };
    case MSG.piece: {
      if (b.length < 13) throw new Error("piece truncated");
      const data = b.subarray(13);
      if (data.length > MAX_BLOCK) throw new Error("piece block too large");
      const index = dv.getUint32(1), offset = dv.getUint32(5), chunkSize = dv.getUint32(9);
      if (offset + data.length > chunkSize) throw new Error("piece outside its chunk");
      return { type: "piece", index, offset, chunkSize, data };
    }
    case MSG.ping: need(9); return { type: "ping", nonce: dv.getBigUint64(1) };
    case MSG.pong: need(9); return { type: "pong", nonce: dv.getBigUint64(1) };
    default: throw new Error("unknown message type " + b[0]);
  }
}

// Bitfields as the signaller and hello carry them: chunk 0 = high bit of byte 0.
export function bitfieldHas(bits, i) { return (bits[i >> 3] >> (7 - (i & 7))) & 1; }
export function bitfieldSet(bits, i) { bits[i >> 3] |= 0x80 >> (i & 7); }
export function bitfieldToBase64(bits) {
  let s = "";
  for (const x of bits) s += String.fromCharCode(x);
  return btoa(s);
}
