// ChunkCache: verified chunks kept in IndexedDB across page loads, so a reload (or another video sharing
// chunks) plays and seeds from disk. Keyed by chunk id (SHA-256 of the bytes: the same chunk is one record
// whatever video names it); bounded by bytes (default 512 MiB), least recently used first out. Two object
// stores: `meta` ({id, size, used}, indexed by `used`: small, read whole at open to count the bytes) and `data`
// (id -> the bytes). The engine checks every chunk read back against its id again (a damaged or edited database
// is refetched, never played or served).
const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
const done = (tx) => new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = tx.onabort = () => reject(tx.error); });

export class ChunkCache {
  // null when IndexedDB is missing or refused (private mode, no quota): the engine then runs without a cache.
  static async open({ name = "hybridnode", maxBytes = 512 * 1024 * 1024 } = {}) {
    if (typeof indexedDB === "undefined") return null;
    try {
      const open = indexedDB.open(name, 1);
      open.onupgradeneeded = () => {
        open.result.createObjectStore("meta", { keyPath: "id" }).createIndex("used", "used");
        open.result.createObjectStore("data");
      };
      const db = await req(open);
      const c = new ChunkCache(db, maxBytes);
      for (const m of await req(db.transaction("meta").objectStore("meta").getAll())) { c.ids.add(m.id); c.bytes += m.size; }
      return c;
    } catch { return null; }
  }
  constructor(db, maxBytes) { this.db = db; this.maxBytes = maxBytes; this.bytes = 0; this.ids = new Set(); this.evicted = 0; }
  has(id) { return this.ids.has(id); }
  // The bytes of chunk `id`, or undefined; marks it recently used.
  async get(id) {
    if (!this.ids.has(id)) return undefined;
    const tx = this.db.transaction(["meta", "data"], "readwrite");
    const [m, d] = await Promise.all([req(tx.objectStore("meta").get(id)), req(tx.objectStore("data").get(id))]);
    if (!m || !d) return undefined;
    m.used = Date.now();
    tx.objectStore("meta").put(m);
    return new Uint8Array(d);
  }
  // Keeps a verified chunk; returns the ids evicted to stay within maxBytes (least recently used first).
  async put(id, data) {
    if (data.length > this.maxBytes || this.ids.has(id)) return [];
    const tx = this.db.transaction(["meta", "data"], "readwrite");
    const meta = tx.objectStore("meta"), store = tx.objectStore("data");
    meta.put({ id, size: data.length, used: Date.now() });
    store.put(data.slice().buffer, id);
    this.ids.add(id);
    this.bytes += data.length;
    const evicted = [];
    if (this.bytes > this.maxBytes) {
      const cur = meta.index("used").openCursor();
      await new Promise((resolve, reject) => {
        cur.onerror = () => reject(cur.error);
        cur.onsuccess = () => {
          const c = cur.result;
          if (!c || this.bytes <= this.maxBytes) return resolve();
          if (c.value.id !== id) {
            evicted.push(c.value.id); this.ids.delete(c.value.id); this.bytes -= c.value.size;
            c.delete(); store.delete(c.value.id);
          }
          c.continue();
        };
      });
    }
    await done(tx);
    this.evicted += evicted.length;
    return evicted;
  }
  close() { this.db.close(); }
}
