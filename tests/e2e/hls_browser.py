"""Headless Chromium plays an HLS VOD from the content server's web root, and a page on another origin reads the
API thanks to CORS (and is blocked by a server that sends none). One browser process for the whole test.
Usage: hls_browser.py SERVER_PORT VIDEO_ID OTHER_ORIGIN_PORT NO_CORS_PORT USER_DATA_DIR"""
import sys, time
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

port, video, other, nocors, profile = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
opts = Options()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
          "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={profile}"):
    opts.add_argument(a)
drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
rc = 1
try:
    drv.set_page_load_timeout(20)
    drv.set_script_timeout(20)
    drv.get(f"http://127.0.0.1:{port}/watch/{video}")
    deadline, t = time.monotonic() + 40, 0.0
    while time.monotonic() < deadline:
        st = drv.execute_script("return {t: document.getElementById('video').currentTime, hn: window.hn}")
        t = st["t"]
        if st["hn"] and st["hn"]["fatal"]:
            raise SystemExit(f"hls.js fatal error: {st['hn']}")
        if t > 8:
            break
        time.sleep(0.25)
    else:
        raise SystemExit(f"playback stalled at currentTime={t}: {drv.execute_script('return window.hn')}")
    errors = drv.execute_script("return window.hn.errors")
    print(f"played to {t:.1f} s with hls.js; non-fatal errors: {errors}")
    # bufferSeekOverHole is hls.js stepping over the few ms by which AAC priming makes audio start before video
    # in nearly every MP4; anything else (network, parsing, stalls) fails.
    unexpected = [e for e in errors if e != "mediaError:bufferSeekOverHole"]
    if unexpected:
        raise SystemExit(f"hls.js reported errors: {unexpected}")

    # The player's IndexedDB cache (web/src/idb-cache.js) stays within its byte bound, least recently used out,
    # and its count survives a reopen: 30 kB chunks under a 100 kB bound.
    res = drv.execute_async_script("""
      const done = arguments[arguments.length - 1];
      const pause = () => new Promise((r) => setTimeout(r, 5));  // distinct 'used' times
      (async () => {
        const { ChunkCache } = await import('/src/idb-cache.js');
        const c = await ChunkCache.open({ name: 'bound-test', maxBytes: 100000 });
        const evicted = [];
        for (let k = 0; k < 4; k++) { evicted.push(...await c.put('id' + k, new Uint8Array(30000).fill(k))); await pause(); }
        const touched = await c.get('id1'); await pause();
        evicted.push(...await c.put('id4', new Uint8Array(30000).fill(4)));
        const gone = await c.get('id2'), last = await c.get('id4');
        c.close();
        const again = await ChunkCache.open({ name: 'bound-test', maxBytes: 100000 });
        return { evicted, bytes: c.bytes, reopened: again.bytes, ids: [...again.ids].sort(), touched: touched && touched[0],
                 gone: gone === undefined, last: last && last[0] };
      })().then(done, (e) => done({ error: String(e) }));
    """)
    print(f"IndexedDB cache: {res}")
    if res != {"evicted": ["id0", "id2"], "bytes": 90000, "reopened": 90000, "ids": ["id1", "id3", "id4"], "touched": 1,
               "gone": True, "last": 4}:
        raise SystemExit(f"the IndexedDB cache broke its bound or its LRU order: {res}")

    # A page on another origin (another port) reads the manifest and the playlist cross-origin.
    drv.get(f"http://127.0.0.1:{other}/cross.html")
    res = drv.execute_async_script("""
      const done = arguments[arguments.length - 1];
      const get = (u) => fetch(u).then(async (r) => r.status + ' ' + (await r.text()).slice(0, 60), (e) => 'blocked: ' + e.name);
      Promise.all([get(arguments[0]), get(arguments[1]), get(arguments[2])]).then(done);
    """, f"http://127.0.0.1:{port}/videos/{video}", f"http://127.0.0.1:{port}/videos/{video}.m3u8",
         f"http://127.0.0.1:{nocors}/videos/{video}")
    print(f"cross-origin: {res}")
    if not res[0].startswith("200 {") or not res[1].startswith("200 #EXTM3U"):
        raise SystemExit(f"cross-origin fetch failed: {res}")
    if not res[2].startswith("blocked"):
        raise SystemExit(f"a server without CORS was readable cross-origin: {res[2]}")
    rc = 0
finally:
    drv.quit()
sys.exit(rc)
