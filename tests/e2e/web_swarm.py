#!/usr/bin/python3
"""Browser tabs as swarm peers: each tab is its own headless Chromium (fresh --user-data-dir) on /watch/ID from
the content server's web root; tab k starts once tab k-1 has played START_AFTER seconds, so later tabs find
earlier ones holding segments. Waits until every tab's <video> ended then tab 0 runs the Download (HN_RELOAD=1:
then reloads and plays to the end again, in the same profile: from its IndexedDB cache); writes WORKDIR/ended and
keeps the tabs open (seeding) until WORKDIR/release exists (60 s at most); prints each tab's state and engine
counters.
Usage: web_swarm.py SERVER_PORT VIDEO TABS WORKDIR [START_AFTER] [QUERY]"""
import json, os, sys, time
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

port, video, tabs, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
start_after = float(sys.argv[5]) if len(sys.argv) > 5 else 3.0
query = sys.argv[6] if len(sys.argv) > 6 else ""
STATE = """const h = window.hn || {}, e = h.engine, v = document.getElementById('video');
return {t: v ? v.currentTime : 0, d: v ? v.duration : 0, ended: !!h.ended, fatal: h.fatal || null,
        errors: h.errors || [], peer: h.peerId || null, qoe: h.qoe || null, n: e ? e.n : 0,
        fp: e && e.footprint ? e.footprint() : null,
        stats: e ? Object.assign({}, e.stats, {peers: e.peersConnected(), signal: e.signalState}) : null};"""


def browser(k):
    opts = Options()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--allow-loopback-in-peer-connection",
              "--disable-features=WebRtcHideLocalIpsWithMdns", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
              "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={work}/profile{k}"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver", log_path=os.path.join(work, f"chromedriver{k}.log")),
                         options=opts)
    d.set_page_load_timeout(20)
    d.get(f"http://127.0.0.1:{port}/watch/{video}{query}")
    return d


drivers, rc = [], 1
try:
    deadline = time.monotonic() + float(os.environ.get("HN_TABS_TIMEOUT", "90"))
    drivers.append(browser(0))
    states = []
    while time.monotonic() < deadline:
        states = [d.execute_script(STATE) for d in drivers]
        for k, s in enumerate(states):
            if s["fatal"]:
                raise SystemExit(f"tab {k}: fatal {s['fatal']}: {s}")
        if len(drivers) < tabs and states[-1]["t"] >= start_after:
            drivers.append(browser(len(drivers)))
            continue
        if len(drivers) == tabs and all(s["ended"] for s in states):
            break
        time.sleep(0.25)
    else:
        raise SystemExit("not every tab reached the end in 90 s: " + json.dumps(states))
    drivers[0].set_script_timeout(30)
    dl = None if os.environ.get("HN_NO_DOWNLOAD") else drivers[0].execute_async_script("const done = arguments[0]; window.hn.download().then(done, (e) => done({error: String(e)}))")
    states[0]["download"] = dl
    if os.environ.get("HN_RELOAD"):  # tab 0 again in the same profile: it plays from its IndexedDB cache
        states[0].update({k: v for k, v in drivers[0].execute_script(STATE).items() if k in ("stats", "fp")})
        drivers[0].refresh()
        end = time.monotonic() + 60
        while not (r := drivers[0].execute_script(STATE))["ended"]:
            if r["fatal"] or time.monotonic() > end:
                raise SystemExit("tab 0 after a reload: " + json.dumps(r))
            time.sleep(0.25)
        states[0]["reload"] = r
    # The tabs stay open (seeding) until the caller is done with them: WORKDIR/ended, then WORKDIR/release.
    open(os.path.join(work, "ended"), "w").close()
    release = time.monotonic() + 60
    while not os.path.exists(os.path.join(work, "release")) and time.monotonic() < release:
        time.sleep(0.2)
    states = [s if "reload" in s else dict(s, **{k: v for k, v in d.execute_script(STATE).items() if k in ("stats", "fp")})
              for s, d in zip(states, drivers)]
    print(json.dumps(states))
    rc = 0
finally:
    for d in drivers:
        try:
            d.quit()
        except Exception as e:  # a browser already gone: keep quitting the others
            print(f"quit: {e}", file=sys.stderr)
sys.exit(rc)
