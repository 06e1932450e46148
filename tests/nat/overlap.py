"""Reads slot_client.py outputs: prints the share of transfer time during which more than LIMIT accepted
bodies were arriving at once, and exits 1 when it exceeds MAX_SHARE. Usage: overlap.py LIMIT MAX_SHARE FILE..."""
import json
import sys

limit, max_share, files = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
events, n, refused = [], 0, 0
for f in files:
    d = json.load(open(f))
    refused += d["refused"]
    for t in d["transfers"]:
        events += [(t["start"], 1), (t["end"], -1)]
        n += 1
events.sort(key=lambda e: (e[0], e[1]))  # an end and a start at the same instant do not overlap
active, busy, over, peak, last = 0, 0.0, 0.0, 0, None
for t, d in events:
    if last is not None and active > 0:
        busy += t - last
        if active > limit:
            over += t - last
    active += d
    peak = max(peak, active)
    last = t
share = over / busy if busy else 1.0
print(f"{n} transfers, {refused} refusals, busy {busy:.2f} s, more than {limit} at once {over:.3f} s "
      f"({share * 100:.1f}%), at most {peak} at once")
if n < 10 or share > max_share:
    sys.exit(1)
