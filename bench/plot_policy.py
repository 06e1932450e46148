"""Draws bench/results/policy.csv as an SVG: server bytes (x) vs p95 completion time (y), one line per
policy and swarm size, baselines as single points. Plain SVG, no plotting library needed."""
import csv, math, sys
from collections import defaultdict

rows = [r for r in csv.DictReader(open(sys.argv[1]))]
out = sys.argv[2]
W, H, L, B, R, T = 900, 560, 80, 60, 220, 30
pts = [(float(r["server_bytes"]) / 1e6, float(r["p95_s"])) for r in rows if r["p95_s"] not in ("nan", "")]
if not pts:
    open(out, "w").write("<svg xmlns='http://www.w3.org/2000/svg'/>")
    sys.exit()
xmax = max(p[0] for p in pts) * 1.08 or 1
ymax = max(p[1] for p in pts) * 1.1 or 1
sx = lambda x: L + (W - L - R) * x / xmax
sy = lambda y: H - B - (H - B - T) * y / ymax
colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
svg = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' font-family='sans-serif' font-size='12'>",
       f"<rect width='{W}' height='{H}' fill='white'/>",
       f"<line x1='{L}' y1='{H-B}' x2='{W-R}' y2='{H-B}' stroke='black'/>",
       f"<line x1='{L}' y1='{T}' x2='{L}' y2='{H-B}' stroke='black'/>",
       f"<text x='{(L+W-R)/2}' y='{H-15}' text-anchor='middle'>bytes served by the content server (MB)</text>",
       f"<text x='20' y='{(T+H-B)/2}' transform='rotate(-90 20 {(T+H-B)/2})' text-anchor='middle'>p95 completion time (s)</text>"]
for i in range(6):
    x, y = xmax * i / 5, ymax * i / 5
    svg.append(f"<text x='{sx(x)}' y='{H-B+16}' text-anchor='middle'>{x:.0f}</text>")
    svg.append(f"<text x='{L-6}' y='{sy(y)+4}' text-anchor='end'>{y:.1f}</text>")
series = defaultdict(list)
for r in rows:
    if r["p95_s"] in ("nan", ""):
        continue
    series[(r["policy"], r["peers"])].append((float(r["server_bytes"]) / 1e6, float(r["p95_s"]), r["param"]))
for k, ((pol, n), s) in enumerate(sorted(series.items())):
    c = colors[k % len(colors)]
    s.sort()
    if len(s) > 1:
        svg.append("<polyline fill='none' stroke='%s' stroke-width='2' points='%s'/>" % (c, " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y, _ in s)))
    for x, y, param in s:
        svg.append(f"<circle cx='{sx(x):.1f}' cy='{sy(y):.1f}' r='4' fill='{c}'><title>{pol} {param} ({n} peers)</title></circle>")
        svg.append(f"<text x='{sx(x)+6:.1f}' y='{sy(y)-6:.1f}' font-size='9' fill='{c}'>{param}</text>")
    svg.append(f"<rect x='{W-R+15}' y='{T+18*k}' width='12' height='12' fill='{c}'/>")
    svg.append(f"<text x='{W-R+32}' y='{T+18*k+10}'>{pol}, {n} peers</text>")
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
