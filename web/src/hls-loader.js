// hls.js loader (as p2p-media-loader does): every segment hls.js asks for is a chunk route (/chunks/ID.ts,
// docs/hls.md) or a live segment (/live/ID/SEQ.ts, docs/live.md), so it is taken from the engine (HybridEngine
// or LiveEngine: server first, peers on 503, verified); playlists and anything else go through hls.js's own
// loader. Use: new Hls({ loader: createHlsLoader(engine, Hls) }).
const CHUNK_RE = /\/chunks\/([0-9a-f]{64})(?:\.ts)?(?:\?.*)?$/;

export function createHlsLoader(engine, Hls) {
  const Default = Hls.DefaultConfig.loader;
  return class HybridLoader {
    constructor(config) {
      this.config = config;
      this.fallback = new Default(config);
      this.stats = this.fallback.stats;
      this.context = null;
      this.aborted = false;
    }
    load(context, config, callbacks) {
      if (engine.segmentIndex) {  // live: the manifest may name the segment a moment after the playlist
        this.context = context;
        engine.segmentIndex(context.url).then((i) => { if (!this.aborted) this.loadIndex(i, context, config, callbacks); });
        return;
      }
      const m = CHUNK_RE.exec(context.url);
      this.loadIndex(m ? engine.index.get(m[1]) : undefined, context, config, callbacks);
    }
    loadIndex(index, context, config, callbacks) {
      if (index === undefined) {
        const r = this.fallback.load(context, config, callbacks);
        this.stats = this.fallback.stats;
        return r;
      }
      this.context = context;
      const stats = this.stats = { aborted: false, loaded: 0, retry: 0, total: 0, chunkCount: 0, bwEstimate: 0,
        loading: { start: performance.now(), first: 0, end: 0 }, parsing: { start: 0, end: 0 },
        buffering: { start: 0, first: 0, end: 0 } };
      engine.getChunk(index).then((data) => {
        if (this.aborted) return;
        const now = performance.now();
        stats.loading.first = stats.loading.first || now;
        stats.loading.end = now;
        stats.loaded = stats.total = data.length;
        engine.delivered(index);
        // hls.js may transfer the buffer to its worker (detaching it): hand it a copy, keep ours for peers.
        callbacks.onSuccess({ url: context.url, data: data.slice().buffer }, stats, context, null);
      }, (e) => {
        if (!this.aborted) callbacks.onError({ code: 0, text: String(e) }, context, null, stats);
      });
    }
    abort() { this.aborted = true; this.stats.aborted = true; this.fallback.abort(); }
    destroy() { this.abort(); this.fallback.destroy(); }
    getResponseHeader(name) { return this.fallback.getResponseHeader ? this.fallback.getResponseHeader(name) : null; }
  };
}
