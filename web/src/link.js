// One peer link: RTCPeerConnection + the `hybridnode` data channel (label `hybridnode`, protocol `hybridnode/1`,
// reliable, ordered; JSEP offer/answer and trickled candidates through the signaller, docs/protocol.md section 3).
import { decode } from "./wire.js";

export const CHANNEL = { label: "hybridnode", protocol: "hybridnode/1" };

export class PeerLink {
  // dial: true for the offering side. `signal` sends relays; `onMessage(link, msg)`, `onOpen(link)`, `onClose(link, why)`.
  constructor({ remote, dial, signal, onOpen, onMessage, onClose, iceServers = [] }) {
    this.remote = remote; this.dial = dial; this.signal = signal;
    this.onOpen = onOpen; this.onMessage = onMessage; this.onClose = onClose;
    this.kind = remote.startsWith("web-") ? "browser" : "native";
    this.open = false; this.closed = false; this.helloSeen = false;
    this.bytesIn = 0; this.bytesOut = 0; this.rtt = null;
    this.pc = new RTCPeerConnection({ iceServers });
    this.pc.onicecandidate = (e) => this.signal({ type: "candidate", to: remote,
      candidate: e.candidate ? e.candidate.candidate : "", mid: "0", mline: 0 });
    this.pc.onconnectionstatechange = () => {
      if (["failed", "closed"].includes(this.pc.connectionState)) this.close("connection " + this.pc.connectionState);
    };
    this.pendingCandidates = [];
    if (dial) this.attach(this.pc.createDataChannel(CHANNEL.label, { protocol: CHANNEL.protocol, ordered: true }));
    else this.pc.ondatachannel = (e) => {
      if (e.channel.label === CHANNEL.label && !this.dc) this.attach(e.channel); else e.channel.close();
    };
    this.openTimer = setTimeout(() => { if (!this.open) this.close("not open within 10 s"); }, 10000);
  }
  attach(dc) {
    this.dc = dc;
    dc.binaryType = "arraybuffer";
    dc.bufferedAmountLowThreshold = 256 * 1024;
    const opened = () => {
      if (this.open || this.closed) return;
      this.open = true; clearTimeout(this.openTimer); this.onOpen(this);
    };
    dc.onopen = opened;
    // A channel the remote opened (DCEP) may be announced already open: no open event follows then.
    if (dc.readyState === "open") queueMicrotask(opened);
    dc.onclose = () => this.close("channel closed");
    dc.onmessage = (e) => {
      if (this.closed) return;
      let m;
      try { m = decode(e.data); } catch (err) { return this.close("protocol error: " + err.message); }
      this.bytesIn += e.data.byteLength;
      this.onMessage(this, m);
    };
  }
  async start() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    this.signal({ type: "offer", to: this.remote, sdp: this.pc.localDescription.sdp });
  }
  async onRelay(m) {
    try {
      if (m.type === "offer") {
        await this.pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
        await this.flushCandidates();
        await this.pc.setLocalDescription(await this.pc.createAnswer());
        this.signal({ type: "answer", to: this.remote, sdp: this.pc.localDescription.sdp });
      } else if (m.type === "answer") {
        await this.pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
        await this.flushCandidates();
      } else if (m.type === "candidate" && m.candidate) {
        if (!this.pc.remoteDescription) this.pendingCandidates.push(m);
        else await this.pc.addIceCandidate({ candidate: m.candidate, sdpMid: m.mid || "0", sdpMLineIndex: 0 });
      }
    } catch (e) { this.close("signalling: " + e.message); }
  }
  async flushCandidates() {
    const c = this.pendingCandidates; this.pendingCandidates = [];
    for (const m of c) await this.pc.addIceCandidate({ candidate: m.candidate, sdpMid: m.mid || "0", sdpMLineIndex: 0 }).catch(() => {});
  }
  send(bytes) {
    if (!this.open || this.closed) return false;
    try { this.dc.send(bytes); } catch (e) { this.close("send: " + e.message); return false; }
    this.bytesOut += bytes.length;
    return true;
  }
  // Resolves once the channel's send buffer has drained below its threshold (backpressure for uploads).
  drained() {
    if (!this.dc || this.dc.bufferedAmount <= this.dc.bufferedAmountLowThreshold || this.closed) return Promise.resolve();
    return new Promise((r) => { this.dc.onbufferedamountlow = () => { this.dc.onbufferedamountlow = null; r(); }; });
  }
  close(why) {
    if (this.closed) return;
    this.closed = true; this.open = false; clearTimeout(this.openTimer);
    try { this.pc.close(); } catch { /* already */ }
    if (this.dc && this.dc.onbufferedamountlow) this.dc.onbufferedamountlow();
    this.onClose(this, why);
  }
}
