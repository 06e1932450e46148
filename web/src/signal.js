// The signaller's WebSocket + JSON protocol (docs/protocol.md section 2), as src/p2p's signal client speaks it.
export class SignalClient {
  constructor(url, { video, peer, chunkCount, haveBase64, manifestDigest, epoch, token, onRelay, onDown }) {
    this.url = url; this.video = video; this.peer = peer; this.chunkCount = chunkCount;
    this.onRelay = onRelay; this.onDown = onDown;
    this.pending = new Map(); this.seq = 0; this.up = false;
    this.ready = new Promise((resolve, reject) => {
      const ws = this.ws = new WebSocket(url);
      const timer = setTimeout(() => { reject(new Error("signaller: no join within 5 s")); ws.close(); }, 5000);
      // The swarm is the holders of this manifest (its digest) or of this live run (its epoch); the token admits us when the platform
      // runs the signaller with --swarm-secret (docs/protocol.md "Swarm identity and join tokens").
      const join = { type: "join", video, peer, chunk_count: chunkCount, have: haveBase64 };
      if (manifestDigest) join.manifest_digest = manifestDigest;
      if (epoch) join.epoch = epoch;  // a live channel's swarm is its run (docs/live.md "Epochs")
      if (token) join.token = token;
      ws.onopen = () => this.send(join);
      ws.onerror = () => { clearTimeout(timer); reject(new Error("signaller unreachable: " + url)); };
      ws.onclose = () => {
        clearTimeout(timer); this.up = false;
        for (const [, p] of this.pending) p.resolve({ chunks: {} });
        this.pending.clear();
        if (this.onDown) this.onDown();
      };
      ws.onmessage = (e) => {
        let m;
        try { m = JSON.parse(e.data); } catch { return; }
        if (m.type === "joined") { clearTimeout(timer); this.up = true; resolve(m); }
        else if (m.type === "error" && m.ref === "join") { clearTimeout(timer); reject(new Error(m.message)); }
        else if (m.type === "peers" && this.pending.has(m.id)) { this.pending.get(m.id).resolve(m); this.pending.delete(m.id); }
        else if (m.type === "offer" || m.type === "answer" || m.type === "candidate") this.onRelay(m);
      };
    });
    this.heartbeat = setInterval(() => this.send({ type: "ping" }), 10000);
  }
  send(m) { if (this.ws.readyState === 1) this.ws.send(JSON.stringify(m)); }
  have(indices) { if (indices.length) this.send({ type: "have", chunks: indices }); }
  bitfield(b64) { this.send({ type: "bitfield", have: b64 }); }
  rtt(peers) { if (Object.keys(peers).length) this.send({ type: "rtt", peers }); }
  load(uploads) { this.send({ type: "load", uploads }); }
  // Resolves {chunk index: [peer ids]}; an empty answer when the signaller is gone.
  lookup(chunks, max = 8) {
    if (!this.up) return Promise.resolve({});
    const id = "q" + (++this.seq);
    return new Promise((resolve) => {
      this.pending.set(id, { resolve: (m) => resolve(m.chunks || {}) });
      this.send({ type: "lookup", chunks: chunks.slice(0, 256), max, id });
      setTimeout(() => { if (this.pending.delete(id)) resolve({}); }, 3000);
    });
  }
  close() { clearInterval(this.heartbeat); try { this.send({ type: "leave" }); this.ws.close(); } catch { /* gone */ } }
}
