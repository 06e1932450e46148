// The browser peer (HybridEngine): the C++ peer's policy in a page. A chunk near the playhead comes from the content
// server first; on 503 the engine joins the signaller named in the refusal, looks the chunk up, dials holders
// (native or browser) and asks the least busy one; every chunk's SHA-256 is checked with crypto.subtle before it
// is played, kept (ChunkLru), announced (`have`) and served to other peers. A peer that sends a bad chunk is banned.
import * as wire from "./wire.js";
import { ChunkLru } from "./lru.js";
import { Scheduler } from "./scheduler.js";
import { SignalClient } from "./signal.js";
import { PeerLink } from "./link.js";

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const newPeerId = () => "web-" + [...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, "0")).join("");

export async function fetchCatalog(server = "") {
  const r = await fetch(server + "/videos");
  if (!r.ok) throw new Error("catalog: HTTP " + r.status);
  return r.json();
}
export async function fetchManifest(server, video) {
  const r = await fetch(server + "/videos/" + encodeURIComponent(video));
  if (!r.ok) throw new Error("manifest: HTTP " + r.status);
  return r.json();
}

export class HybridEngine {
  constructor({ server = "", video, manifest, peerId = newPeerId(), cacheBytes = 256 * 1024 * 1024,
                cache = null, signalUrl = null, peerTimeoutMs = 4000, timeoutStrikes = 2, maxStrikes = 16, maxPeers = 8, uploadSlots = 8, prefetch = 6, p2p = true, iceServers = [],
                urgentSeconds = 4 }) {
    Object.assign(this, { server, video, manifest, peerId, cache, peerTimeoutMs, timeoutStrikes, maxStrikes, maxPeers, uploadSlots, prefetch, p2p, iceServers,
                          urgentSeconds });
    this.chunks = manifest.chunks;
    this.n = this.chunks.length;
    this.index = new Map(this.chunks.map((c, i) => [c.id, i]));
    if (this.chunks.every((c) => c.duration > 0)) {
      let t = 0;
      this.starts = this.chunks.map((c) => { const s = t; t += c.duration; return s; });
    }
    this.store = new ChunkLru(cacheBytes);
    this.sched = new Scheduler(this.n);
    this.links = new Map();      // peer id -> PeerLink
    this.waiting = new Map();    // chunk index -> {peer, buf, got, resolve, timer}
    this.loading = new Map();    // chunk index -> Promise<Uint8Array>
    this.uploads = 0; this.ticks = 0;
    this.playhead = 0;
    this.signal = null; this.signalState = "not needed yet";
    this.stats = { fromServer: 0, fromCache: 0, fromNative: 0, fromBrowsers: 0, toNative: 0, toBrowsers: 0, verified: 0,
                   badChunks: 0, serverRefusals: 0, peerTimeouts: 0, banned: [], segments: [] };
    this.listeners = new Set();
    this.serverBusyUntil = 0;
    this.timer = setInterval(() => this.tick(), 500);
    // The catalog names the video's signaller: joining at once links us to holders while the server still
    // serves, so peers are ready when it refuses (chunks still go to the server first: the policy is unchanged).
    if (p2p && signalUrl) this.joinSwarm(signalUrl);
  }
  static async open(opts) {
    const manifest = opts.manifest || await fetchManifest(opts.server || "", opts.video);
    return new HybridEngine({ ...opts, manifest });
  }
  // The player's element: chunks starting more than urgentSeconds after its currentTime are not urgent (VOD
  // segments, from the manifest's durations). Without media every chunk is urgent (server first).
  attachMedia(el) { this.media = el; }
  urgent(i) {
    if (!this.media || !this.starts) return true;
    return this.starts[i] - this.media.currentTime < this.urgentSeconds;
  }
  onChange(f) { this.listeners.add(f); }
  changed() { for (const f of this.listeners) f(this); }
  has(i) { return this.store.has(i) || this.cached(i); }
  // Called by the player for each segment handed over (each one verified first): tests read stats.segments.
  delivered(i) { if (!this.stats.segments.includes(i)) this.stats.segments.push(i); this.changed(); }
  peersConnected() {
    const out = { native: 0, browser: 0 };
    for (const l of this.links.values()) if (l.open && l.helloSeen) out[l.kind]++;
    return out;
  }

  // The bytes of chunk i, verified. Never rejects for network trouble: it keeps trying server and peers.
  getChunk(i, { signal: abort } = {}) {
    this.playhead = i;
    const held = this.store.get(i);
    if (held) return Promise.resolve(held);
    if (!this.loading.has(i)) {
      const p = this.load(i, abort).finally(() => this.loading.delete(i));
      this.loading.set(i, p);
    }
    return this.loading.get(i);
  }
  async load(i, abort) {
    if (this.cached(i)) { const got = await this.fromCache(i); if (got) return got; }
    for (let attempt = 0; ; attempt++) {
      if (abort && abort.aborted) throw new Error("aborted");
      if (this.waiting.has(i)) {  // a prefetch from a peer is under way: wait for it
        const got = await this.waiting.get(i).done;
        if (got) return got;
      }
      const held = this.store.get(i);
      if (held) return held;
      // Far from the playhead, or the server refused a chunk less than its Retry-After ago, and in the swarm
      // already: peers first (one try); the server keeps its slots for the chunks about to play, and a server
      // that just said it is full is not asked again before it said to.
      const serverBusy = performance.now() < this.serverBusyUntil;
      if (attempt === 0 && (!this.urgent(i) || serverBusy) && this.signal && this.signal.up) {
        const got = await this.fromPeers(i, 1);
        if (got) return got;
      }
      const r = await this.fromServer(i);
      if (r.data) return r.data;
      const got = await this.fromPeers(i);
      if (got) return got;
      await sleep(Math.min(r.retryMs || 200, 1000));
    }
  }
  async fromServer(i) {
    const c = this.chunks[i];
    let r;
    try { r = await fetch(this.server + "/chunks/" + c.id, { cache: "no-store" }); }
    catch { return { retryMs: 500 }; }
    if (r.status === 503) {
      this.stats.serverRefusals++;
      let body = {};
      try { body = await r.json(); } catch { /* a refusal without JSON */ }
      if (this.p2p && !this.signal && body.signal_url) this.joinSwarm(body.signal_url);
      const retryMs = 1000 * (Number(r.headers.get("Retry-After")) || 1);
      this.serverBusyUntil = performance.now() + retryMs;
      return { retryMs };
    }
    if (!r.ok) return { retryMs: 1000 };
    const data = new Uint8Array(await r.arrayBuffer());
    if (!(await this.accept(i, data))) return { retryMs: 500 };
    this.stats.fromServer += data.length;
    this.changed();
    return { data };
  }
  async verify(i, data) {
    if (!this.chunks[i] || data.length !== this.chunks[i].size) return false;
    return hex(await crypto.subtle.digest("SHA-256", data)) === this.chunks[i].id;
  }
  async accept(i, data) {
    if (!(await this.verify(i, data))) return false;
    this.stats.verified++;
    if (this.cache) this.keep(i, data);
    // Got from elsewhere (the server) while a peer still works on it: release that request, no strike.
    const w = this.waiting.get(i);
    if (w && w.buf === null) {
      const l = this.links.get(w.peer);
      if (l) l.send(wire.encodeCancel(i));
      this.finishWait(i, data);
    }
    if (!this.store.has(i)) {
      const evicted = this.store.put(i, data);
      for (const l of this.links.values()) if (l.helloSeen) l.send(wire.encodeHave(i));
      if (this.signal) {
        this.signal.have([i]);
        if (evicted.length) this.signal.bitfield(this.bitfieldBase64());
      }
    }
    return true;
  }
  // IndexedDB (ChunkCache): every verified chunk is written there too; what it evicts and we no longer hold in
  // memory leaves our bitfield at the signaller.
  async keep(i, data) {
    try {
      const evicted = await this.cache.put(this.chunks[i].id, data);
      if (evicted.some((id) => this.index.has(id)) && this.signal) this.signal.bitfield(this.bitfieldBase64());
    } catch { /* quota or a closed database: the memory copy still serves */ }
  }
  cached(i) { return !!(this.cache && this.chunks[i] && this.cache.has(this.chunks[i].id)); }
  // Chunk i from IndexedDB, checked against its id again (a damaged record is dropped and fetched anew).
  async fromCache(i) {
    let data;
    try { data = await this.cache.get(this.chunks[i].id); } catch { data = undefined; }
    if (!data || !(await this.verify(i, data))) { this.cache.ids.delete(this.chunks[i].id); return null; }
    this.stats.fromCache += data.length;
    this.store.put(i, data);
    this.changed();
    return data;
  }
  bitfield() {
    const b = new Uint8Array(wire.bitfieldBytes(this.n));
    for (const i of this.store.keys()) wire.bitfieldSet(b, i);
    if (this.cache) for (let i = 0; i < this.n; i++) if (this.cached(i)) wire.bitfieldSet(b, i);
    return b;
  }
  bitfieldBase64() { return wire.bitfieldToBase64(this.bitfield()); }
  // The wire hello names the video and its manifest digest (VIDEO.DIGEST16), as native peers do.
  helloVideo() {
    const d = this.manifest.manifest_digest;
    return d ? this.video.slice(0, 47) + "." + d.slice(0, 16) : this.video;
  }

  joinSwarm(url) {
    if (this.signal) return;
    this.signalState = "joining " + url;
    const s = new SignalClient(url, { video: this.video, peer: this.peerId, chunkCount: this.n,
      manifestDigest: this.manifest.manifest_digest, epoch: this.epoch, token: this.manifest.token,
      haveBase64: this.bitfieldBase64(), onRelay: (m) => this.onRelay(m),
      onDown: () => { this.signalState = "down"; this.signal = null; this.changed(); } });
    this.signal = s;
    s.ready.then(() => { this.signalState = "joined"; this.changed(); },
                 (e) => { this.signalState = "unreachable: " + e.message; if (this.signal === s) this.signal = null; });
  }
  // Asks the signaller who holds chunk i (and a few after it), dials them, and fetches i from one; null if none.
  async fromPeers(i, maxTries = 3) {
    if (!this.signal || !this.signal.up) return null;
    await this.lookupAndDial([i]);
    const exclude = new Set();
    for (let tries = 0; tries < maxTries; tries++) {
      await this.waitForLinks(i, 1500);
      const p = this.sched.pickPeer(i, this.openPeers(), exclude);
      if (!p) return null;
      const got = await this.request(i, p);
      if (got) return got;
      exclude.add(p);
    }
    return null;
  }
  openPeers() {
    const s = new Set();
    for (const [id, l] of this.links) if (l.open && l.helloSeen) s.add(id);
    return s;
  }
  async waitForLinks(i, ms) {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const open = this.openPeers();
      if (this.sched.holdersOf(i).some((p) => open.has(p))) return;
      if (![...this.links.values()].some((l) => !l.open && !l.closed)) return;  // nothing more is coming
      await sleep(50);
    }
  }
  async lookupAndDial(indices) {
    const found = await this.signal.lookup(indices, 8);
    for (const [k, peers] of Object.entries(found)) for (const p of peers) {
      this.sched.addHolder(p, Number(k));
      if (!this.links.has(p) && !this.sched.banned.has(p) && this.links.size < this.maxPeers) this.connect(p, true);
    }
  }
  connect(remote, dial) {
    const link = new PeerLink({ remote, dial, iceServers: this.iceServers,
      signal: (m) => this.signal && this.signal.send(m),
      onOpen: (l) => l.send(wire.encodeHello({ peer: this.peerId, video: this.helloVideo(), chunkCount: this.n, bitfield: this.bitfield() })),
      onMessage: (l, m) => this.onMessage(l, m),
      onClose: (l, why) => this.onLinkClosed(l, why) });
    this.links.set(remote, link);
    if (dial) link.start().catch((e) => link.close("offer: " + e.message));
    this.changed();
    return link;
  }
  onRelay(m) {
    if (!m.from) return;
    let link = this.links.get(m.from);
    if (m.type === "offer") {
      if (this.sched.banned.has(m.from)) return;
      if (link && link.dial) {
        if (this.peerId < m.from) return;  // both dialled: the lower id keeps its outgoing link
        this.links.delete(m.from); link.close("glare");
        link = null;
      }
      if (!link) {
        if (this.links.size >= this.maxPeers + 4) return;
        link = this.connect(m.from, false);
      }
    }
    if (link) link.onRelay(m);
  }
  onLinkClosed(l, why) {
    clearInterval(l.pingTimer);
    if (this.links.get(l.remote) === l) this.links.delete(l.remote);
    this.sched.removePeer(l.remote);
    for (const [i, w] of this.waiting) if (w.peer === l.remote) this.finishWait(i, null);
    if (why && !why.startsWith("glare")) this.lastClose = l.remote + ": " + why;
    this.changed();
  }
  onMessage(l, m) {
    if (!l.helloSeen) {
      if (m.type !== "hello" || m.peer !== l.remote || m.video !== this.helloVideo() || m.chunkCount !== this.n)
        return l.close("bad hello");
      l.helloSeen = true;
      for (let i = 0; i < this.n; i++) if (wire.bitfieldHas(m.bitfield, i)) this.sched.addHolder(l.remote, i);
      l.pingTimer = setInterval(() => this.ping(l), 2000);
      this.ping(l);
      this.changed();
      return;
    }
    switch (m.type) {
      case "hello": return l.close("second hello");
      case "have": if (m.index >= this.n) return l.close("have out of range"); this.sched.addHolder(l.remote, m.index); return;
      case "request": return this.serve(l, m.index);
      case "cancel": (l.cancelled = l.cancelled || new Set()).add(m.index); return;
      case "reject": {
        const w = this.waiting.get(m.index);
        if (!w || w.peer !== l.remote) return;
        this.finishWait(m.index, null);
        // Busy is honest back-pressure; "not held" for a chunk it announced is a lie once too often.
        if (m.reason === wire.REJECT.notHeld) {
          this.sched.holders.get(l.remote)?.delete(m.index);
          if (this.sched.strike(l.remote) >= this.maxStrikes) this.banPeer(l, "rejected " + this.maxStrikes + " requests in a row for chunks it announced");
        }
        return;
      }
      case "ping": l.send(wire.encodePong(m.nonce)); return;
      case "pong": if (l.pingSent && m.nonce === l.pingNonce) { l.rtt = performance.now() - l.pingSent; this.sched.setRtt(l.remote, l.rtt); } return;
      case "piece": return this.onPiece(l, m);
    }
  }
  banPeer(l, why) {
    if (!this.sched.banned.has(l.remote) && this.stats.banned.length < 64) this.stats.banned.push(l.remote);
    this.sched.ban(l.remote);
    l.close(why + ": banned");
  }
  // What this engine holds in memory and in timers, for tests that check it stays bounded under abuse.
  footprint() {
    let holderEntries = 0;
    for (const s of this.sched.holders.values()) holderEntries += s.size;
    return { links: this.links.size, linked: [...this.links.keys()], pingTimers: [...this.links.values()].filter((l) => l.pingTimer && !l.closed).length,
             waiting: this.waiting.size, loading: this.loading.size, holderPeers: this.sched.holders.size, holderEntries,
             strikes: this.sched.strikes.size, struck: [...this.sched.strikes.keys()], banned: this.sched.banned.size, storeBytes: this.store.bytes,
             heapBytes: performance.memory ? performance.memory.usedJSHeapSize : null };
  }
  ping(l) {
    if (l.closed) return clearInterval(l.pingTimer);
    l.pingNonce = BigInt(Math.floor(Math.random() * 2 ** 48)); l.pingSent = performance.now();
    l.send(wire.encodePing(l.pingNonce));
  }
  request(i, peer) {
    const link = this.links.get(peer);
    if (!link) return Promise.resolve(null);
    if (this.waiting.has(i)) return this.waiting.get(i).done;  // one request per chunk at a time
    let resolve;
    const done = new Promise((r) => { resolve = r; });
    const w = { peer, buf: null, got: 0, resolve, done,
                timer: setTimeout(() => {
                  this.stats.peerTimeouts++;
                  link.send(wire.encodeCancel(i));
                  // A peer that claims chunks and lets requests for them time out again and again (a forged
                  // `have`, or a stalled link) is banned: it is not dialled nor asked again this session.
                  if (this.sched.strike(peer) >= this.timeoutStrikes) this.banPeer(link, "let " + this.timeoutStrikes + " requests in a row time out");
                  else link.close("peer timeout");
                }, this.peerTimeoutMs) };
    this.waiting.set(i, w);
    this.sched.started(peer);
    link.send(wire.encodeRequest(i));
    return done;
  }
  finishWait(i, data) {
    const w = this.waiting.get(i);
    if (!w) return;
    clearTimeout(w.timer);
    this.waiting.delete(i);
    this.sched.finished(w.peer);
    w.resolve(data);
  }
  async onPiece(l, m) {
    const w = this.waiting.get(m.index);
    if (!w || w.peer !== l.remote || !this.chunks[m.index]) return l.close("piece not requested");
    if (m.chunkSize !== this.chunks[m.index].size || m.offset !== w.got) return l.close("piece out of order");
    if (!w.buf) w.buf = new Uint8Array(m.chunkSize);
    w.buf.set(m.data, m.offset);
    w.got += m.data.length;
    if (w.got < m.chunkSize) return;
    const data = w.buf;
    clearTimeout(w.timer);
    if (await this.accept(m.index, data)) {
      this.stats[l.kind === "native" ? "fromNative" : "fromBrowsers"] += data.length;
      this.sched.delivered(l.remote);
      this.finishWait(m.index, data);
    } else {
      this.stats.badChunks++;
      this.finishWait(m.index, null);
      this.banPeer(l, "chunk " + m.index + " failed SHA-256");
    }
    this.changed();
  }
  // Upload: pieces of at most 64 KiB, one chunk after another, waiting for the channel to drain.
  async serve(l, i) {
    let data = i < this.n ? this.store.get(i) : undefined;
    if (!data && i < this.n && this.cached(i)) data = await this.fromCache(i);
    if (!data) return l.send(wire.encodeReject(i, wire.REJECT.notHeld));
    if (this.uploads >= this.uploadSlots) return l.send(wire.encodeReject(i, wire.REJECT.busy));
    this.uploads++;
    try {
      for (let off = 0; off < data.length && !l.closed; off += wire.MAX_BLOCK) {
        if (l.cancelled && l.cancelled.delete(i)) return;
        await l.drained();
        const block = data.subarray(off, Math.min(data.length, off + wire.MAX_BLOCK));
        if (l.send(wire.encodePiece(i, off, data.length, block)))
          this.stats[l.kind === "native" ? "toNative" : "toBrowsers"] += block.length;
      }
    } finally {
      this.uploads--;
      this.changed();
    }
  }
  // Every 500 ms: prefetch chunks ahead of the playhead from peers (rarest first), report RTTs.
  async tick() {
    if (!this.signal || !this.signal.up || this.ticking) return;
    this.ticking = true;
    try {
      const ahead = [];
      for (let i = this.playhead; i < Math.min(this.n, this.playhead + 1 + this.prefetch * 2); i++)
        if (!this.has(i) && !this.waiting.has(i)) ahead.push(i);
      if (ahead.length) await this.lookupAndDial(ahead);
      const open = this.openPeers();
      let started = 0;
      for (const i of this.sched.prefetchOrder(this.playhead + 1, this.prefetch * 2, (k) => this.has(k) || this.waiting.has(k) || this.loading.has(k))) {
        if (this.waiting.size >= this.prefetch) break;
        const p = this.sched.pickPeer(i, open);
        if (p) { this.request(i, p); started++; }
      }
      this.report();
    } finally { this.ticking = false; }
  }
  // Every 5 s (10 ticks): RTTs to the signaller, and our upload load.
  report() {
    if (++this.ticks % 10 !== 0 || !this.signal) return;
    const rtt = {};
    for (const l of this.links.values()) if (l.rtt != null) rtt[l.remote] = Math.round(l.rtt * 10) / 10;
    this.signal.rtt(rtt);
    this.signal.load(this.uploads);
  }
  // The whole file (the segments in order: for HLS videos one MPEG-TS file, as a native peer's --output), each
  // chunk through getChunk (held, server, or peers). onProgress(doneBytes, totalBytes). Resolves a Blob.
  async download(onProgress = () => {}) {
    const parts = [];
    let done = 0;
    for (let i = 0; i < this.n; i++) {
      const held = this.store.get(i) || await this.load(i);
      parts.push(held);
      done += held.length;
      onProgress(done, this.manifest.total_size || done);
    }
    return new Blob(parts, { type: this.manifest.media_type || "application/octet-stream" });
  }
  close() {
    this.closed = true;
    clearInterval(this.timer);
    for (const l of [...this.links.values()]) l.close("engine closed");
    if (this.signal) this.signal.close();
  }
}
