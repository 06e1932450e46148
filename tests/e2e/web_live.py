#!/usr/bin/python3
"""Browser viewers of a live channel: one headless Chromium, TABS windows on /watch/CHANNEL (a second one
starts once the first plays). For PLAY seconds each tab is sampled every 2 s: currentTime and the decoded
frames (getVideoPlaybackQuality) must keep growing. Then a screenshot of tab 0's <video> goes to
WORKDIR/live_tab0.png and its pixels must not be uniform (a decoded test pattern, not a black or blank box).
Prints each tab's samples and engine counters as JSON.
Usage: web_live.py SERVER_PORT CHANNEL TABS WORKDIR PLAY_SECONDS"""
import json, os, struct, sys, time, zlib
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

port, channel, tabs, work, play = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
STATE = """const h = window.hn || {}, e = h.engine, v = document.getElementById('video');
const q = v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : {};
return {t: v ? v.currentTime : 0, frames: q.totalVideoFrames || 0, dropped: q.droppedVideoFrames || 0,
        live: !!h.live, fatal: h.fatal || null, errors: h.errors || [], peer: h.peerId || null,
        stats: e ? Object.assign({}, e.stats, {peers: e.peersConnected(), signal: e.signalState}) : null};"""


def png_pixels(data):
    """(width, height, channels, bytes) of an 8-bit, non-interlaced RGB/RGBA PNG (Chromium's screenshots)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
            ch = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, out, prev = zlib.decompress(idat), w * ch, bytearray(), bytearray(w * ch)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - ch] if x >= ch else 0
            b, c = prev[x], prev[x - ch] if x >= ch else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return w, h, ch, bytes(out)


opts = Options()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--allow-loopback-in-peer-connection",
          "--disable-features=WebRtcHideLocalIpsWithMdns", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
          # Windows of one browser play side by side: none of them is throttled as a background page.
          "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
          "--disable-backgrounding-occluded-windows", "--window-size=800,700",
          "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={work}/profile"):
    opts.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver", log_path=os.path.join(work, "chromedriver.log")), options=opts)
rc = 1
try:
    d.set_page_load_timeout(20)
    handles = []

    def open_tab():
        if handles:
            d.switch_to.new_window("window")
        d.get(f"http://127.0.0.1:{port}/watch/{channel}")
        handles.append(d.current_window_handle)

    def state(k):
        d.switch_to.window(handles[k])
        s = d.execute_script(STATE)
        if s["fatal"]:
            raise SystemExit(f"tab {k}: fatal {s['fatal']}: {json.dumps(s)}")
        return s

    open_tab()
    deadline = time.monotonic() + 30
    while state(0)["t"] <= 0:
        if time.monotonic() > deadline:
            raise SystemExit("tab 0 did not start playing in 30 s: " + json.dumps(state(0)))
        time.sleep(0.25)
    while len(handles) < tabs:
        open_tab()
    samples = [[] for _ in handles]
    end = time.monotonic() + play
    while time.monotonic() < end:
        for k in range(len(handles)):
            samples[k].append(state(k))
        time.sleep(2)
    for k in range(len(handles)):
        samples[k].append(state(k))
    d.switch_to.window(handles[0])
    png = d.find_element(By.ID, "video").screenshot_as_png
    path = os.path.join(work, "live_tab0.png")
    open(path, "wb").write(png)
    w, h, ch, px = png_pixels(png)
    lum = [(px[i] * 299 + px[i + 1] * 587 + px[i + 2] * 114) // 1000 for i in range(0, len(px), ch)]
    mean = sum(lum) / len(lum)
    var = sum((v - mean) ** 2 for v in lum) / len(lum)
    print(json.dumps({"screenshot": {"path": path, "w": w, "h": h, "mean": mean, "variance": var,
                                     "distinct": len(set(lum))},
                      "tabs": [{"samples": [{k: s[k] for k in ("t", "frames", "dropped")} for s in ss],
                                "final": ss[-1]} for ss in samples]}))
    rc = 0
finally:
    d.quit()
sys.exit(rc)
