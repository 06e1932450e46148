"""Draws bench/results/policy.csv as an SVG: one panel per swarm size, server bytes (x, log scale) vs p95
completion time (y), one colour and marker per policy (its points joined in order of server bytes), the
baselines as single points, and a dashed line at 1.2x the unlimited server's p95 (the target).
Plain SVG, no plotting library needed."""
import csv, math, sys
from collections import defaultdict

rows = [r for r in csv.DictReader(open(sys.argv[1]))]
out = sys.argv[2]
ok = lambda r: r["p95_s"] not in ("nan", "")
sizes = sorted({r["peers"] for r in rows if ok(r)}, key=int)
STYLE = {  # policy -> colour, marker
    "unlimited-no-p2p": ("#000000", "square"),
    "single-seeder": ("#7f7f7f", "diamond"),
    "connections": ("#1f77b4", "circle"),
    "bandwidth": ("#d62728", "triangle"),
    "adaptive": ("#2ca02c", "cross"),
}
LABEL = {"unlimited-no-p2p": "unlimited server, no P2P", "single-seeder": "single seeder, then peers only",
         "connections": "connections (--max-transfers)", "bandwidth": "bandwidth (--egress-bytes-per-sec)",
         "adaptive": "adaptive (--target-ms)"}


def marker(kind, x, y, c, tip):
    t = f"<title>{tip}</title>"
    if kind == "square":
        return f"<rect x='{x-5:.1f}' y='{y-5:.1f}' width='10' height='10' fill='{c}'>{t}</rect>"
    if kind == "diamond":
        return f"<polygon points='{x},{y-7} {x+7},{y} {x},{y+7} {x-7},{y}' fill='{c}'>{t}</polygon>"
    if kind == "triangle":
        return f"<polygon points='{x},{y-7} {x+6},{y+5} {x-6},{y+5}' fill='{c}'>{t}</polygon>"
    if kind == "cross":
        return (f"<g stroke='{c}' stroke-width='3'><line x1='{x-5}' y1='{y-5}' x2='{x+5}' y2='{y+5}'/>"
                f"<line x1='{x-5}' y1='{y+5}' x2='{x+5}' y2='{y-5}'/>{t}</g>")
    return f"<circle cx='{x:.1f}' cy='{y:.1f}' r='5' fill='{c}'>{t}</circle>"


PW, PH, L, B, T, GAP, LEG = 440, 380, 70, 55, 60, 90, 70
W, H = L + len(sizes) * (PW + GAP) - GAP + 30, T + PH + B + LEG
title = sys.argv[3] if len(sys.argv) > 3 else "Switching policies: server bytes vs p95 completion"
svg = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' font-family='sans-serif' font-size='12'>",
       f"<rect width='{W}' height='{H}' fill='white'/>",
       f"<text x='{W/2}' y='24' text-anchor='middle' font-size='16' font-weight='bold'>{title}</text>"]
for k, n in enumerate(sizes):
    sub = [r for r in rows if r["peers"] == n and ok(r)]
    x0 = L + k * (PW + GAP)
    mb = [max(0.01, float(r["server_bytes"]) / 1e6) for r in sub]
    lo, hi = math.floor(math.log10(min(mb))), math.ceil(math.log10(max(mb)))
    hi = max(hi, lo + 1)
    base = [r for r in sub if r["policy"] == "unlimited-no-p2p"]
    target = 1.2 * float(base[0]["p95_s"]) if base else None
    top = max([float(r["p95_s"]) for r in sub] + ([target] if target else [])) * 1.08
    step = next(m * 10 ** e for e in range(-2, 6) for m in (1, 2, 5) if top / (m * 10 ** e) <= 6)
    ymax = step * math.ceil(top / step)
    sx = lambda v: x0 + PW * (math.log10(max(0.01, v)) - lo) / (hi - lo)
    sy = lambda v: T + PH - PH * v / ymax
    svg.append(f"<text x='{x0 + PW/2}' y='{T - 10}' text-anchor='middle' font-size='14'>{n} peers</text>")
    svg.append(f"<rect x='{x0}' y='{T}' width='{PW}' height='{PH}' fill='none' stroke='black'/>")
    for e in range(lo, hi + 1):
        for m in (1, 2, 5):
            v = m * 10 ** e
            if v > 10 ** hi:
                break
            X = sx(v)
            svg.append(f"<line x1='{X:.1f}' y1='{T}' x2='{X:.1f}' y2='{T+PH}' stroke='#e5e5e5'/>")
            svg.append(f"<text x='{X:.1f}' y='{T+PH+16}' text-anchor='middle'>{v:g}</text>")
    for i in range(int(round(ymax / step)) + 1):
        v = step * i
        svg.append(f"<line x1='{x0}' y1='{sy(v):.1f}' x2='{x0+PW}' y2='{sy(v):.1f}' stroke='#e5e5e5'/>")
        svg.append(f"<text x='{x0-6}' y='{sy(v)+4:.1f}' text-anchor='end'>{v:g}</text>")
    svg.append(f"<text x='{x0+PW/2}' y='{T+PH+38}' text-anchor='middle'>bytes served by the content server (MB, log scale)</text>")
    svg.append(f"<text x='{x0-45}' y='{T+PH/2}' transform='rotate(-90 {x0-45} {T+PH/2})' text-anchor='middle'>p95 completion time (s)</text>")
    if target:
        svg.append(f"<line x1='{x0}' y1='{sy(target):.1f}' x2='{x0+PW}' y2='{sy(target):.1f}' stroke='#000' stroke-dasharray='6,4'/>")
        svg.append(f"<text x='{x0+PW-4}' y='{sy(target)-5:.1f}' text-anchor='end' font-size='10'>1.2x unlimited server p95</text>")
    for pol, (c, kind) in STYLE.items():
        pts = sorted((float(r["server_bytes"]) / 1e6, float(r["p95_s"]), r["param"], float(r["server_share"])) for r in sub if r["policy"] == pol)
        if len(pts) > 1:
            svg.append("<polyline fill='none' stroke='%s' stroke-width='2' points='%s'/>" % (c, " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y, _, _ in pts)))
        for x, y, param, share in pts:
            svg.append(marker(kind, sx(x), sy(y), c, f"{pol} {param}: {x:.1f} MB, p95 {y:.2f} s, {(1-share)*100:.0f}% from peers"))
            if pol in ("connections", "bandwidth", "adaptive"):
                svg.append(f"<text x='{sx(x)+8:.1f}' y='{sy(y)-7:.1f}' font-size='10' fill='{c}'>{param}</text>")
for j, (pol, (c, kind)) in enumerate(STYLE.items()):
    X, Y = L + (j % 3) * 300, T + PH + B + 30 + (j // 3) * 24
    svg.append(marker(kind, X, Y, c, pol))
    svg.append(f"<text x='{X + 14}' y='{Y + 4}'>{LABEL[pol]}</text>")
svg.append("</svg>")
open(out, "w").write("\n".join(svg))

# The point each policy recommends: p95 within 1.2x of the unlimited server at minimum server bytes.
for n in sorted({r["peers"] for r in rows}, key=int):
    base = [r for r in rows if r["peers"] == n and r["policy"] == "unlimited-no-p2p"]
    if not base or base[0]["p95_s"] == "nan":
        continue
    limit = 1.2 * float(base[0]["p95_s"])
    print(f"{n} peers: unlimited server p95 {base[0]['p95_s']}s, {float(base[0]['server_bytes'])/1e6:.0f} MB from the server")
    for pol in ("connections", "bandwidth", "adaptive", "single-seeder"):
        ok = [r for r in rows if r["peers"] == n and r["policy"] == pol and r["p95_s"] != "nan" and float(r["p95_s"]) <= limit]
        if ok:
            best = min(ok, key=lambda r: float(r["server_bytes"]))
            print(f"  {pol}: {best['param']} -> {float(best['server_bytes'])/1e6:.0f} MB from the server "
                  f"({(1-float(best['server_share']))*100:.0f}% from peers), p95 {best['p95_s']}s")
        else:
            fastest = min((r for r in rows if r["peers"] == n and r["policy"] == pol and r["p95_s"] != "nan"),
                          key=lambda r: float(r["p95_s"]), default=None)
            extra = f"; fastest {fastest['param']} p95 {fastest['p95_s']}s" if fastest else ""
            print(f"  {pol}: no point within 1.2x of the unlimited server{extra}")
