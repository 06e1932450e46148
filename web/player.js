// The /watch/{id} page: hls.js with the hybrid loader, and the live panel.
import { HybridEngine, LiveEngine, ChunkCache, fetchCatalog, fetchManifest, createHlsLoader } from "/src/index.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const video = decodeURIComponent(location.pathname.split("/").pop() === "watch.html"
  ? params.get("id") || "" : location.pathname.split("/").pop());
window.hn = { video, errors: [], fatal: null, engine: null, ended: false };
const mib = (n) => (n / 1048576).toFixed(2) + " MiB";

async function main() {
  $("title").textContent = video;
  // A video of the catalog, else a live channel of that name (GET /live/ID).
  // VOD chunks are also kept in IndexedDB (ChunkCache, 512 MiB, LRU) unless ?cache=0: a reload plays and seeds
  // from it.
  const opts = { video, p2p: params.get("p2p") !== "0" };
  let engine;
  try {
    const manifest = await fetchManifest("", video);
    const cache = params.get("cache") === "0" ? null : await ChunkCache.open();
    // The catalog entry names the signaller of this video's swarm (joined at once, see HybridEngine).
    const entry = await fetchCatalog().then((c) => c.videos.find((v) => v.id === video), () => null);
    engine = new HybridEngine({ ...opts, manifest, cache, signalUrl: entry && entry.signal_url });
  } catch (e) {
    if (!/HTTP 404/.test(e.message)) throw e;
    engine = await LiveEngine.open(opts);
    engine.onEpoch = () => location.reload();  // the channel restarted: a new run, a new swarm
  }
  const live = window.hn.live = engine instanceof LiveEngine;
  window.hn.engine = engine;
  window.hn.peerId = engine.peerId;
  $("title").textContent = engine.manifest.title || video;
  const el = $("video");
  const Hls = window.Hls;
  if (!Hls || !Hls.isSupported()) { $("status").textContent = "hls.js missing or unsupported (npm ci in web/)"; return; }
  const hls = new Hls({ loader: createHlsLoader(engine, Hls) });
  hls.on(Hls.Events.ERROR, (_, d) => {
    window.hn.errors.push(d.type + ":" + d.details);
    if (d.fatal) { window.hn.fatal = d.details; $("status").textContent = "playback failed: " + d.details; }
  });
  el.addEventListener("ended", () => { window.hn.ended = true; $("status").textContent = "ended"; });
  // Quality of experience, read by scripts/bench.sh browser: time to first frame (from page start) and the
  // time spent stalled after it (rebuffering).
  const qoe = window.hn.qoe = { firstFrameMs: null, stallMs: 0, stalls: 0, playStart: null, playMs: 0 };
  let stalledAt = null;
  el.addEventListener("playing", () => {
    const now = performance.now();
    if (qoe.firstFrameMs === null) { qoe.firstFrameMs = now; qoe.playStart = now; }
    if (stalledAt !== null) { qoe.stallMs += now - stalledAt; stalledAt = null; }
  });
  el.addEventListener("waiting", () => {
    if (qoe.firstFrameMs !== null && stalledAt === null && !el.ended) { stalledAt = performance.now(); qoe.stalls++; }
  });
  el.addEventListener("ended", () => { qoe.playMs = performance.now() - qoe.playStart; });
  hls.loadSource((live ? "/live/" : "/videos/") + encodeURIComponent(video) + ".m3u8");
  hls.attachMedia(el);
  engine.attachMedia(el);
  el.play().catch((e) => { $("status").textContent = "press play (" + e.name + ")"; });
  $("status").textContent = "peer " + engine.peerId;
  setupPanel(engine);
  if (live) $("download").hidden = true; else setupDownload(engine);
}

// Download: every chunk through the engine (peers included), then the File System Access API where present
// (showSaveFilePicker), a Blob link otherwise. window.hn.download() returns the SHA-256 (hex) of the file (tests).
function setupDownload(engine) {
  const btn = $("download"), bar = $("dlprogress");
  const run = async () => {
    bar.hidden = false;
    const blob = await engine.download((done, total) => { bar.max = total; bar.value = done; });
    const hash = [...new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()))]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    $("dlstatus").textContent = `${blob.size} bytes, SHA-256 ${hash}`;
    return { blob, hash };
  };
  const name = video + (engine.manifest.media === "hls" ? ".ts" : ".bin");
  btn.disabled = false;
  btn.onclick = async () => {
    btn.disabled = true;
    try {
      const { blob } = await run();
      if (window.showSaveFilePicker) {
        const h = await window.showSaveFilePicker({ suggestedName: name });
        const w = await h.createWritable(); await w.write(blob); await w.close();
      } else {
        const a = document.createElement("a");
        a.href = URL.createObjectURL(blob); a.download = name; a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 60000);
      }
    } catch (e) { $("dlstatus").textContent = "download failed: " + e; }
    btn.disabled = false;
  };
  window.hn.download = async () => { const r = await run(); return { size: r.blob.size, sha256: r.hash }; };
}

function setupPanel(engine) {
  const hist = [];
  let last = { s: 0, p: 0 };
  const draw = () => {
    const s = engine.stats, p = engine.peersConnected();
    const peers = s.fromNative + s.fromBrowsers;
    $("fromServer").textContent = mib(s.fromServer);
    $("fromCache").textContent = engine.cache ? mib(s.fromCache) + ` (cache ${mib(engine.cache.bytes)})` : "off";
    $("fromNative").textContent = mib(s.fromNative);
    $("fromBrowsers").textContent = mib(s.fromBrowsers);
    $("toNative").textContent = mib(s.toNative);
    $("toBrowsers").textContent = mib(s.toBrowsers);
    $("share").textContent = s.fromServer + peers ? Math.round(100 * peers / (s.fromServer + peers)) + "%" : "–";
    $("peers").textContent = `${p.native} native, ${p.browser} browser`;
    $("signal").textContent = engine.signalState;
    $("verified").textContent = engine instanceof LiveEngine ? s.verified + " (live)" : s.verified + " / " + engine.n;
    $("refusals").textContent = s.serverRefusals;
    $("bad").textContent = s.badChunks;
    $("banned").textContent = s.banned.join(", ") || "–";
  };
  engine.onChange(draw);
  setInterval(() => {
    const s = engine.stats, peers = s.fromNative + s.fromBrowsers;
    hist.push({ s: s.fromServer - last.s, p: peers - last.p });
    last = { s: s.fromServer, p: peers };
    if (hist.length > 120) hist.shift();
    const c = $("chart"), g = c.getContext("2d");
    const max = Math.max(1, ...hist.map((h) => h.s + h.p));
    g.clearRect(0, 0, c.width, c.height);
    const w = c.width / 120;
    hist.forEach((h, k) => {
      const hs = c.height * h.s / max, hp = c.height * h.p / max;
      g.fillStyle = "#999"; g.fillRect(k * w, c.height - hs, w - 1, hs);
      g.fillStyle = "#2a2"; g.fillRect(k * w, c.height - hs - hp, w - 1, hp);
    });
    draw();
  }, 1000);
}

main().catch((e) => { window.hn.fatal = String(e); $("status").textContent = "failed: " + e; });
