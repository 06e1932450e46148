#!/usr/bin/python3
"""Headless Chromium as a swarm peer: a page served over http://127.0.0.1 (a secure context, so crypto.subtle
exists) joins the signaller, dials a native seeder with RTCPeerConnection, opens the `hybridnode` data channel,
speaks the wire protocol and checks every chunk's SHA-256.

  chromium_peer.py SIG SERVER VIDEO SEEDER WORKDIR
Prints the page's result as JSON; exit 0 when every chunk arrived and verified."""
import http.server
import json
import os
import sys
import threading
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

PAGE = r"""<!doctype html><meta charset="utf-8"><title>hybridnode chromium peer</title>
<script>
const CFG = __CONFIG__;
const me = "chrome" + Math.floor(Math.random() * 1e9);
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
    else if (m.type === "candidate" && m.candidate) await pc.addIceCandidate({candidate: m.candidate, sdpMid: m.mid || "0", sdpMLineIndex: 0});
  });
  await joined;
  // The signaller relays only to members a lookup named to us: ask who holds chunk 0 first.
  let gotPeers;
  const peersSeen = new Promise(r => gotPeers = r);
  send({type: "lookup", chunks: [0], max: 50});
  await peersSeen;
  pc = new RTCPeerConnection();
  dc = pc.createDataChannel("hybridnode", {protocol: "hybridnode/1", ordered: true});
  dc.binaryType = "arraybuffer";
  pc.onicecandidate = (e) => send({type: "candidate", to: CFG.seeder, candidate: e.candidate ? e.candidate.candidate : "", mid: "0", mline: 0});
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
  pc.close();
  return {ok: true, me, chunks: verified.length, bytes: verified.reduce((a, b) => a + b, 0), ms, dtls};
}
run().then(r => window.hnResult = r, e => window.hnResult = {ok: false, error: String(e), log: window.hnLog});
</script>"""


def main():
    sig, server, video, seeder, work = sys.argv[1:6]
    with urllib.request.urlopen(f"{server}/videos/{video}") as r:
        man = json.load(r)
    # The wire hello names VIDEO.DIGEST16 (docs/protocol.md): links only between holders of one manifest.
    cfg = {"sig": sig, "video": video, "seeder": seeder, "chunks": man["chunks"], "digest": man["manifest_digest"],
           "hello_video": video[:47] + "." + man["manifest_digest"][:16]}
    page = PAGE.replace("__CONFIG__", json.dumps(cfg)).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

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
        driver.get(f"http://127.0.0.1:{httpd.server_address[1]}/")
        result = None
        for _ in range(300):
            result = driver.execute_script("return window.hnResult || null")
            if result is not None:
                break
            time.sleep(0.1)
        if result is None:
            result = {"ok": False, "error": "no result in 30 s", "log": driver.execute_script("return window.hnLog || []")}
        print(json.dumps(result))
    finally:
        driver.quit()
        httpd.shutdown()
    sys.exit(0 if result.get("ok") else 1)


if __name__ == "__main__":
    main()
