// hybridnode in the browser: import { HybridEngine, createHlsLoader } from "hybridnode".
export { HybridEngine, fetchCatalog, fetchManifest, newPeerId } from "./engine.js";
export { LiveEngine, LIVE_RING, fetchLiveManifest } from "./live.js";
export { createHlsLoader } from "./hls-loader.js";
export { Scheduler } from "./scheduler.js";
export { ChunkLru } from "./lru.js";
export { ChunkCache } from "./idb-cache.js";
export { SignalClient } from "./signal.js";
export { PeerLink, CHANNEL } from "./link.js";
export * as wire from "./wire.js";
