// Which peer serves a chunk, and which chunks to prefetch: the same ideas as src/peer/chunk_scheduler.cpp.
// Chunks near the playhead come from the content server first; peers serve what the server refuses (503) and
// prefetches further ahead, rarest first. Pure (no I/O): unit-tested with node --test.
export class Scheduler {
  constructor(chunkCount, { maxInflightPerPeer = 4 } = {}) {
    this.n = chunkCount;
    this.maxInflightPerPeer = maxInflightPerPeer;
    this.holders = new Map();   // peer -> Set of indices it announced (hello bitfield, have, lookup)
    this.inflight = new Map();  // peer -> number of requests outstanding
    this.rtt = new Map();       // peer -> ms
    this.banned = new Set();
    this.strikes = new Map();   // peer -> requests it let time out or refused in a row for chunks it claimed
  }
  // A request the peer let time out, or a `reject` (not held) of a chunk it announced: returns the peer's
  // strikes in a row. A delivered chunk (delivered()) clears them.
  strike(peer) {
    const k = (this.strikes.get(peer) || 0) + 1;
    this.strikes.delete(peer);
    this.strikes.set(peer, k);
    // Bounded whatever the number of peers met (sybils): the oldest records go first.
    if (this.strikes.size > 1024) this.strikes.delete(this.strikes.keys().next().value);
    return k;
  }
  delivered(peer) { this.strikes.delete(peer); }
  addHolder(peer, i) {
    if (this.banned.has(peer) || i < 0 || i >= this.n) return;
    let s = this.holders.get(peer);
    if (!s) this.holders.set(peer, s = new Set());
    s.add(i);
  }
  removePeer(peer) { this.holders.delete(peer); this.inflight.delete(peer); }
  ban(peer) { this.banned.add(peer); this.removePeer(peer); this.strikes.delete(peer); this.rtt.delete(peer); }
  setRtt(peer, ms) { this.rtt.set(peer, ms); }
  started(peer) { this.inflight.set(peer, (this.inflight.get(peer) || 0) + 1); }
  finished(peer) { const k = (this.inflight.get(peer) || 1) - 1; this.inflight.set(peer, Math.max(0, k)); }
  holdersOf(i) {
    const out = [];
    for (const [p, s] of this.holders) if (s.has(i) && !this.banned.has(p)) out.push(p);
    return out;
  }
  // The peer to ask for chunk i among `connected` (a Set of peer ids with an open link), or null:
  // fewest strikes (a peer that let a request time out or refused a chunk it announced comes last), then
  // fewest requests in flight (spreads load, so every holder, browser or native, is used), then lowest RTT.
  pickPeer(i, connected, exclude = new Set()) {
    let best = null, bestKey = null;
    for (const p of this.holdersOf(i)) {
      if (!connected.has(p) || exclude.has(p)) continue;
      const inf = this.inflight.get(p) || 0;
      if (inf >= this.maxInflightPerPeer) continue;
      const key = [this.strikes.get(p) || 0, inf, this.rtt.has(p) ? this.rtt.get(p) : 1e9, p];
      let k = 0;
      while (k < 3 && bestKey && key[k] === bestKey[k]) k++;
      if (!bestKey || key[k] < bestKey[k]) { best = p; bestKey = key; }
    }
    return best;
  }
  // Chunks worth prefetching from peers: missing, within `window` after `from`, held by someone; rarest first,
  // nearer first among equals.
  prefetchOrder(from, window, have) {
    const cand = [];
    for (let i = from; i < Math.min(this.n, from + window); i++) {
      if (have(i)) continue;
      const k = this.holdersOf(i).length;
      if (k > 0) cand.push([k, i]);
    }
    cand.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return cand.map((c) => c[1]);
  }
}
