#!/usr/bin/env bash
# hybridnode vs nginx serving the very same chunk files (256 KiB) to wrk on loopback, in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
DUR=${DUR:-10}; CONNS=${CONNS:-64}; ROUNDS=${ROUNDS:-3}
T=$(mktemp -d /tmp/hn-bench-XXXXXX)
chmod 755 "$T"   # nginx workers run as www-data
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$T"' EXIT

head -c $((64 << 20)) /dev/urandom >"$T/blob.bin"
./build/hybridnode ingest "$T/blob.bin" --store "$T/store" --id blob --chunk-size 262144 >/dev/null
./build/hybridnode --role=server --store="$T/store" --listen=127.0.0.1:0 --port-file="$T/hn.port" \
  --max-transfers=0 --log-level=warn >"$T/hn.log" 2>&1 &
pids+=($!)
cat >"$T/nginx.conf" <<NGINX
worker_processes 2;
pid $T/nginx.pid;
error_log $T/nginx.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; keepalive_requests 1000000;
  server {
    listen 127.0.0.1:18181;
    location ~ "^/chunks/([0-9a-f]{2})([0-9a-f]{62})\$" { alias $T/store/chunks/\$1/\$1\$2; }
  }
}
NGINX
nginx -c "$T/nginx.conf" -g "daemon off;" &
pids+=($!)
for _ in $(seq 1 100); do [[ -s "$T/hn.port" ]] && break; sleep 0.05; done
HN="http://127.0.0.1:$(cat "$T/hn.port")"
NG="http://127.0.0.1:18181"
python3 -c '
import json,sys
m=json.load(open(sys.argv[1]))
print("ids = {" + ",".join("\"%s\"" % c["id"] for c in m["chunks"]) + "}")
print("i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format(\"GET\", \"/chunks/\" .. ids[(i % #ids) + 1])\nend")
' "$T/store/videos/blob.json" >"$T/urls.lua"
curl -sf -o /dev/null "$NG/chunks/$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["chunks"][0]["id"])' "$T/store/videos/blob.json")" \
  || { echo "nginx not serving"; cat "$T/nginx.err"; exit 1; }

mkdir -p bench/results
csv=bench/results/server.csv
echo "server,round,connections,seconds,requests_per_s,mb_per_s" >"$csv"
run() {  # name url round
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${DUR}s" -s "$T/urls.lua" "$2")
  local rps mbs
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  mbs=$(awk '/^Transfer\/sec/ {v=$2; if (v ~ /GB/) {sub("GB","",v); v*=1024} else {sub("MB","",v)}; print v}' <<<"$out")
  echo "$1,$3,$CONNS,$DUR,$rps,$mbs" >>"$csv"
  printf "%-10s round %d: %10.0f req/s %10.1f MB/s\n" "$1" "$3" "$rps" "$mbs"
}
for r in $(seq 1 "$ROUNDS"); do   # interleaved so drift on a noisy machine hits both alike
  run hybridnode "$HN" "$r"
  run nginx "$NG" "$r"
done
python3 - "$csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med = {s: statistics.median(float(r["requests_per_s"]) for r in rows if r["server"] == s) for s in ("hybridnode", "nginx")}
mb = {s: statistics.median(float(r["mb_per_s"]) for r in rows if r["server"] == s) for s in ("hybridnode", "nginx")}
print(f"median: hybridnode {med['hybridnode']:.0f} req/s {mb['hybridnode']:.0f} MB/s; "
      f"nginx {med['nginx']:.0f} req/s {mb['nginx']:.0f} MB/s; ratio {med['hybridnode']/med['nginx']:.2f}x")
PY
