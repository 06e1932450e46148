// The browser viewer of a live channel (LiveEngine; src/peer/live_peer.cpp is its C++ counterpart, docs/live.md):
// the channel's manifest by long poll (GET /live/ID?from=SEQ&wait_ms=10000&epoch=E), chunks named on the wire
// and at the signaller by ring index seq % 4096, links keyed by the run (hello video = ID.EPOCH16), so viewers
// of another run never link. Each new chunk is fetched as soon as it is published: from a connected peer that
// holds it; else, after a random 5-60% of a chunk duration (so that usually one viewer takes it from the
// server and the others from that viewer), from the server; a chunk the player is about to need goes to the
// server at once. Links, uploads, SHA-256 checks and bans are HybridEngine's.
import { HybridEngine } from "./engine.js";
import { Scheduler } from "./scheduler.js";
import * as wire from "./wire.js";

export const LIVE_RING = 4096;      // media::kLiveRing
export const LIVE_KEEP = 64;        // chunks kept behind the newest, as a native viewer keeps its last 64
const LIVE_SEGMENT_RE = /\/live\/[^/?]+\/(\d+)\.ts(?:\?.*)?$/;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function fetchLiveManifest(server, channel) {
  const r = await fetch(server + "/live/" + encodeURIComponent(channel), { cache: "no-store" });
  if (!r.ok) throw new Error("live manifest: HTTP " + r.status);
  return r.json();
}

export class LiveEngine extends HybridEngine {
  // opts as HybridEngine's, with `manifest` the live manifest (GET /live/ID); `startBehind` chunks behind the
  // edge is where fetching starts (hls.js starts 3 target durations behind it: liveSyncDurationCount).
  constructor(opts) {
    super({ peerTimeoutMs: 2000, ...opts, manifest: { chunks: [] } });
    const m = opts.manifest;
    // Chunks by ring index: the arrays of a VOD manifest, sized for the ring; slots are filled as the
    // manifest grows and emptied as chunks slide out.
    this.n = LIVE_RING;
    this.chunks = new Array(LIVE_RING);
    this.index = new Map();             // chunk id -> ring index
    this.sched = new Scheduler(LIVE_RING);
    this.starts = undefined;
    this.manifest = { token: m.token };
    this.epoch = m.epoch;
    this.target = m.target_duration || 1;
    this.nextSeq = 0;
    this.ended = false;
    const edge = m.chunks.length ? m.chunks[m.chunks.length - 1].seq + 1 : 0;
    this.joinSeq = Math.max(m.chunks.length ? m.chunks[0].seq : 0, edge - (opts.startBehind ?? 4));
    this.learnWaiters = new Set();
    this.learn(m);
    this.poll();
  }
  static async open(opts) {
    const manifest = opts.manifest || await fetchLiveManifest(opts.server || "", opts.video);
    return new LiveEngine({ ...opts, manifest });
  }
  helloVideo() { return this.video.slice(0, 47) + "." + this.epoch.slice(0, 16); }
  seqOf(i) { return this.chunks[i] ? this.chunks[i].seq : -1; }

  async poll() {
    while (!this.closed && !this.ended) {
      const url = `${this.server}/live/${encodeURIComponent(this.video)}?from=${this.nextSeq}&wait_ms=10000&epoch=${this.epoch}`;
      let m = null;
      try {
        const r = await fetch(url, { cache: "no-store" });
        if (r.ok) m = await r.json();
      } catch { /* the server is down: retry */ }
      if (this.closed) return;
      if (!m) { await sleep(500 + Math.random() * 1000); continue; }
      if (m.epoch !== this.epoch) {
        // The channel restarted: another swarm and other chunks. The page starts over (player.js reloads).
        this.ended = "epoch changed";
        this.changed();
        if (this.onEpoch) this.onEpoch(m);
        return;
      }
      if (m.token) this.manifest.token = m.token;
      this.learn(m);
      if (m.ended) { this.ended = true; this.changed(); }
    }
  }
  learn(m) {
    for (const c of m.chunks) {
      if (c.seq < this.nextSeq - LIVE_KEEP) continue;
      const i = c.seq % LIVE_RING;
      if (this.chunks[i] && this.chunks[i].seq === c.seq) continue;
      if (this.chunks[i]) this.forget(i);
      this.chunks[i] = c;
      this.index.set(c.id, i);
      this.nextSeq = Math.max(this.nextSeq, c.seq + 1);
      if (c.seq >= this.joinSeq && !this.store.has(i)) this.getChunk(i).catch(() => {});
    }
    // Memory stays bounded by the window we keep, whatever the channel's length.
    for (let i = 0; i < LIVE_RING; i++) if (this.chunks[i] && this.chunks[i].seq < this.nextSeq - LIVE_KEEP) this.forget(i);
    for (const f of this.learnWaiters) f();
    this.changed();
  }
  forget(i) {
    // A request still out for it is released (cancel, no strike: the peer did nothing wrong).
    const w = this.waiting.get(i);
    if (w) { const l = this.links.get(w.peer); if (l) l.send(wire.encodeCancel(i)); this.finishWait(i, null); }
    const had = this.store.delete(i);
    this.index.delete(this.chunks[i].id);
    this.chunks[i] = undefined;
    if (had && this.signal) this.signal.bitfield(this.bitfieldBase64());
  }
  // The ring index of an hls.js segment URL (/live/ID/SEQ.ts), waiting up to 3 s for the manifest to name it
  // (hls.js's playlist and our long poll race); undefined if it never does (hls.js's own loader takes it).
  async segmentIndex(url) {
    const m = LIVE_SEGMENT_RE.exec(url);
    if (!m) return undefined;
    const seq = Number(m[1]), i = seq % LIVE_RING;
    const known = () => this.chunks[i] && this.chunks[i].seq === seq;
    const end = performance.now() + 3000;
    while (!known() && seq >= this.nextSeq && performance.now() < end && !this.closed) {
      await new Promise((r) => { const t = setTimeout(r, 200); this.learnWaiters.add(() => { clearTimeout(t); r(); }); });
      this.learnWaiters.clear();
    }
    return known() ? i : undefined;
  }
  // Urgent: the player holds less than a chunk duration ahead of its playhead (or is not playing yet).
  urgent() {
    const el = this.media;
    if (!el) return false;
    const t = el.currentTime, b = el.buffered;
    let end = t;
    for (let k = 0; k < b.length; k++) if (b.start(k) <= end + 0.2 && b.end(k) > end) end = b.end(k);
    return end - t < this.target;
  }
  async load(i, abort) {
    const c = this.chunks[i];
    // A tab plays hls.js's 3 chunks behind the edge, more than a native viewer's buffer: once linked it waits
    // a further 60% of a chunk, so that a native viewer or another tab usually takes the new chunk from the
    // server and this tab takes it from them (urgent() still sends it to the server if the player runs short).
    const linked = this.openPeers().size > 0;
    const holdoff = (0.05 + Math.random() * 0.55 + (linked ? 0.6 : 0)) * this.target * 1000;
    const learned = performance.now();
    const exclude = new Set();
    for (;;) {
      if (abort && abort.aborted) throw new Error("aborted");
      if (this.closed || this.chunks[i] !== c) throw new Error("chunk " + c.seq + " slid out of the window");
      if (this.waiting.has(i)) {
        const got = await this.waiting.get(i).done;
        if (got) return got;
        continue;
      }
      const held = this.store.get(i);
      if (held) return held;
      const urgent = this.urgent();
      if (urgent) this.stats.urgent = (this.stats.urgent || 0) + 1;
      if (this.p2p && this.signal && this.signal.up && !urgent) {
        const p = this.sched.pickPeer(i, this.openPeers(), exclude);
        if (p) {
          const got = await this.request(i, p);
          if (got) return got;
          exclude.add(p);
          continue;
        }
        if (performance.now() - learned < holdoff) { await sleep(50); continue; }
      }
      const r = await this.fromServer(i);
      if (r.data) return r.data;
      // Refused (503): someone may hold it by now; else ask the server again soon (a live chunk is due).
      if (this.p2p && this.signal && this.signal.up) {
        await this.lookupAndDial([i]);
        const p = this.sched.pickPeer(i, this.openPeers(), exclude);
        if (p) { const got = await this.request(i, p); if (got) return got; exclude.add(p); continue; }
      }
      await sleep(Math.min(r.retryMs || 200, 100 + Math.random() * 300));
    }
  }
  // Every 500 ms: look up holders of the chunks we still miss (dialling them), report RTTs.
  async tick() {
    if (!this.signal || !this.signal.up || this.ticking) return;
    this.ticking = true;
    try {
      const missing = [];
      for (let i = 0; i < LIVE_RING; i++) {
        const c = this.chunks[i];
        if (c && c.seq >= this.joinSeq && !this.store.has(i) && !this.waiting.has(i)) missing.push(i);
      }
      if (missing.length) await this.lookupAndDial(missing.slice(-16));
      this.report();
    } finally { this.ticking = false; }
  }
  // The player's hand-overs, by sequence number: how many, and the last 64 (tests read them).
  delivered(i) {
    const s = this.stats;
    s.delivered = (s.delivered || 0) + 1;
    s.segments.push(this.seqOf(i));
    if (s.segments.length > LIVE_KEEP) s.segments.shift();
    this.changed();
  }
  download() { return Promise.reject(new Error("a live channel has no file to download")); }
}
