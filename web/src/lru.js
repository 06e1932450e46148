// Chunks held in memory, bounded by bytes (default 256 MiB): the least recently used go first.
// A chunk evicted is no longer served or announced (the signaller's bitfield is refreshed by the engine).
export class ChunkLru {
  constructor(maxBytes = 256 * 1024 * 1024) {
    this.maxBytes = maxBytes;
    this.bytes = 0;
    this.map = new Map();  // index -> Uint8Array, in recency order (oldest first)
  }
  has(i) { return this.map.has(i); }
  get size() { return this.map.size; }
  get(i) {
    const v = this.map.get(i);
    if (v === undefined) return undefined;
    this.map.delete(i); this.map.set(i, v);
    return v;
  }
  // Returns the indices evicted to make room (a chunk larger than the bound is not kept).
  put(i, data) {
    const evicted = [];
    if (data.length > this.maxBytes) return [i];
    if (this.map.has(i)) { this.bytes -= this.map.get(i).length; this.map.delete(i); }
    this.map.set(i, data);
    this.bytes += data.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      if (k === i) continue;
      this.map.delete(k); this.bytes -= v.length; evicted.push(k);
    }
    return evicted;
  }
  delete(i) {
    const v = this.map.get(i);
    if (v === undefined) return false;
    this.map.delete(i); this.bytes -= v.length;
    return true;
  }
  keys() { return [...this.map.keys()]; }
}
