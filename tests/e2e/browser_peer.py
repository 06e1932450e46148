#!/usr/bin/python3
"""A headless browser as a swarm peer: a page served over http://127.0.0.1 (a secure context, so crypto.subtle
exists) joins the signaller, dials a native seeder with RTCPeerConnection, opens the `hybridnode` data channel,
speaks the wire protocol and checks every chunk's SHA-256. The page POSTs its result back to this script.

  browser_peer.py chromium|firefox SIG SERVER VIDEO SEEDER WORKDIR [bundle-av]
bundle-av: the page also adds an audio and a video transceiver, so its offer carries three sections and the data
one is third (the seeder must answer all three, rejecting the media ones).
Chromium (Debian's chromium) is driven by chromium-driver through python3-selenium. Firefox (Debian's firefox-esr)
has no driver in Debian (geckodriver is not packaged), so it is started headless on the page's URL with a fresh
profile whose prefs allow loopback ICE candidates, and its process group is ended afterwards.
Prints the page's result as JSON; exit 0 when every chunk arrived and verified."""
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

PAGE = r"""<!doctype html><meta charset="utf-8"><title>hybridnode chromium peer</title>
<script>
const CFG = __CONFIG__;
const me = CFG.browser + Math.floor(Math.random() * 1e9);
const log = (...a) => { (window.hnLog = window.hnLog || []).push(a.join(" ")); };
const hex = (buf) => [...new Uint8Array(buf)].map(b => b.toString(16).padStart(2, "0")).join("");
function hello(full) {
  const n = CFG.chunks.length, bits = new Uint8Array((n + 7) >> 3);
  const enc = new TextEncoder(), p = enc.encode(me), v = enc.encode(CFG.hello_video);
  const m = new Uint8Array(3 + p.length + 1 + v.length + 4 + bits.length);
  let o = 0;
  m[o++] = 0; m[o++] = 1; m[o++] = p.length; m.set(p, o); o += p.length;
  m[o++] = v.length; m.set(v, o); o += v.length;
  new DataView(m.buffer).setUint32(o, n); o += 4;
  m.set(bits, o);
  return m;
}
async function run() {
  const ws = new WebSocket(CFG.sig);
  const send = (m) => ws.send(JSON.stringify(m));
  let pc, dc;
  const pieces = {}, waiters = {};
  let gotHello;
  const helloSeen = new Promise(r => gotHello = r);
  ws.onopen = () => send({type: "join", video: CFG.video, peer: me, chunk_count: CFG.chunks.length, manifest_digest: CFG.digest,
                          have: btoa(String.fromCharCode(...new Uint8Array((CFG.chunks.length + 7) >> 3)))});
  const joined = new Promise(r => ws.onmessage = async (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "joined") r();
    else if (m.type === "peers") gotPeers();
    else if (m.type === "answer") { log("answer", m.sdp.length); await pc.setRemoteDescription({type: "answer", sdp: m.sdp}); }
    else if (m.type === "candidate" && m.candidate) await pc.addIceCandidate({candidate: m.candidate, sdpMid: m.mid, sdpMLineIndex: m.mline});
  });
  await joined;
  // The signaller relays only to members a lookup named to us: ask who holds chunk 0 first.
  let gotPeers;
  const peersSeen = new Promise(r => gotPeers = r);
  send({type: "lookup", chunks: [0], max: 50});
  await peersSeen;
  pc = new RTCPeerConnection();
  // An application that also sends media offers audio and video sections before the data one.
  if (CFG.bundle_av) { pc.addTransceiver("audio"); pc.addTransceiver("video"); }
  dc = pc.createDataChannel("hybridnode", {protocol: "hybridnode/1", ordered: true});
  dc.binaryType = "arraybuffer";
  pc.onicecandidate = (e) => send({type: "candidate", to: CFG.seeder, candidate: e.candidate ? e.candidate.candidate : "",
                                   mid: e.candidate ? e.candidate.sdpMid : "0", mline: e.candidate ? e.candidate.sdpMLineIndex : 0});
  dc.onmessage = (e) => {
    const b = new Uint8Array(e.data), dv = new DataView(e.data);
    if (b[0] === 0) gotHello();
    else if (b[0] === 2) {
      const idx = dv.getUint32(1), off = dv.getUint32(5), total = dv.getUint32(9);
      const p = pieces[idx] = pieces[idx] || {buf: new Uint8Array(total), got: 0};
      if (off !== p.got) throw new Error("piece out of order");
      p.buf.set(b.subarray(13), off); p.got += b.length - 13;
      if (p.got === total) waiters[idx](p.buf);
    } else if (b[0] === 6) { const r = new Uint8Array(b); r[0] = 7; dc.send(r); }
  };
  const opened = new Promise(r => dc.onopen = r);
  await pc.setLocalDescription(await pc.createOffer());
  send({type: "offer", to: CFG.seeder, sdp: pc.localDescription.sdp});
  await opened;
  log("open", dc.id, dc.protocol);
  dc.send(hello(false));
  await helloSeen;
  // Up to 4 requests in flight (the native peer's default per link), each chunk checked as it completes.
  const verified = [], t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < CFG.chunks.length) {
      const i = next++;
      const data = await new Promise(r => { waiters[i] = r; const q = new Uint8Array(5); q[0] = 1; new DataView(q.buffer).setUint32(1, i); dc.send(q); });
      delete pieces[i];
      const h = hex(await crypto.subtle.digest("SHA-256", data));
      if (h !== CFG.chunks[i].id) throw new Error("chunk " + i + " fails SHA-256");
      verified.push(data.length);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const ms = performance.now() - t0;
  const stats = await pc.getStats();
  let dtls = {};
  stats.forEach(s => { if (s.type === "transport") dtls = {cipher: s.dtlsCipher, state: s.dtlsState, role: s.dtlsRole, remoteCert: s.remoteCertificateId}; });
  stats.forEach(s => { if (s.type === "certificate" && s.id === dtls.remoteCert) dtls.remoteFingerprint = s.fingerprint; });
  const fp = /a=fingerprint:sha-256 ([0-9A-Fa-f:]+)/.exec(pc.localDescription.sdp);
  dtls.localFingerprint = fp ? fp[1].toUpperCase() : "";
  const sections = (pc.remoteDescription.sdp.match(/^m=/gm) || []).length;
  pc.close();
  return {ok: true, me, sections, chunks: verified.length, bytes: verified.reduce((a, b) => a + b, 0), ms, dtls};
}
function report(r) {
  window.hnResult = r;
  fetch("/result", {method: "POST", body: JSON.stringify(r)});
}
run().then(report, e => report({ok: false, error: String(e), log: window.hnLog}));
</script>"""


FIREFOX_PREFS = {
    # Firefox gathers no loopback candidates unless told to, and hides host addresses behind mDNS names.
    "media.peerconnection.ice.loopback": True,
    "media.peerconnection.ice.obfuscate_host_addresses": False,
    # A quiet first start: no welcome page, update, telemetry or safe-browsing traffic.
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "app.update.disabledForTesting": True,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "extensions.update.enabled": False,
}


def run_chromium(url, work, results):
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--allow-loopback-in-peer-connection",
                 "--disable-features=WebRtcHideLocalIpsWithMdns", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-gpu",
                 f"--user-data-dir={work}/chromium-profile"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver", log_path=os.path.join(work, "chromedriver.log")),
                              options=opts)
    try:
        # WebDriver's default page-load limit is 300 s: a browser that never loads the page must fail fast
        # and say so (exit code 3 below), not hold the test until ctest kills it.
        driver.set_page_load_timeout(30)
        try:
            driver.get(url)
        except TimeoutException:
            results.append({"ok": False, "started": False, "error": "chromium did not load the page in 30 s"})
            return
        wait_result(results)
        if not results:
            results.append({"ok": False, "error": "no result in 30 s", "log": driver.execute_script("return window.hnLog || []")})
    finally:
        driver.quit()


def run_firefox(url, work, results):
    profile = os.path.join(work, "firefox-profile")
    os.makedirs(profile, exist_ok=True)
    with open(os.path.join(profile, "user.js"), "w") as f:
        for k, v in FIREFOX_PREFS.items():
            f.write(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n")
    env = dict(os.environ, MOZ_HEADLESS="1", HOME=work, MOZ_CRASHREPORTER_DISABLE="1")
    with open(os.path.join(work, "firefox.log"), "w") as log:
        proc = subprocess.Popen(["/usr/bin/firefox-esr", "--headless", "--no-remote", "--profile", profile, url],
                                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        wait_result(results, proc)
        if not results:
            results.append({"ok": False, "error": "no result in 30 s" if proc.poll() is None else
                            f"firefox exited with {proc.returncode} (see firefox.log)"})
    finally:
        # Firefox forks content processes into its session: end the whole group.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_result(results, proc=None):
    for _ in range(300):
        if results or (proc is not None and proc.poll() is not None):
            return
        time.sleep(0.1)


def main():
    browser, sig, server, video, seeder, work = sys.argv[1:7]
    bundle_av = sys.argv[7:8] == ["bundle-av"]
    if browser not in ("chromium", "firefox"):
        sys.exit("browser_peer.py: the browser is chromium or firefox")
    with urllib.request.urlopen(f"{server}/videos/{video}") as r:
        man = json.load(r)
    # The wire hello names VIDEO.DIGEST16 (docs/protocol.md): links only between holders of one manifest.
    cfg = {"browser": browser, "bundle_av": bundle_av, "sig": sig, "video": video, "seeder": seeder, "chunks": man["chunks"],
           "digest": man["manifest_digest"], "hello_video": video[:47] + "." + man["manifest_digest"][:16]}
    page = PAGE.replace("__CONFIG__", json.dumps(cfg)).encode()
    results = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(min(n, 1 << 20))
            try:
                results.append(json.loads(body))
            except ValueError:
                results.append({"ok": False, "error": "unreadable result from the page"})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        (run_chromium if browser == "chromium" else run_firefox)(url, work, results)
    finally:
        httpd.shutdown()
    print(json.dumps(results[0]))
    # 3: the browser never ran the page (it did not start or load): the caller may start it once more.
    sys.exit(0 if results[0].get("ok") else 3 if results[0].get("started") is False else 1)


if __name__ == "__main__":
    main()
