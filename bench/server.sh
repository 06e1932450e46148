#!/usr/bin/env bash
# hybridnode vs nginx serving the very same chunk files (256 KiB) to wrk on loopback, in one run; then the
# same over HTTPS (HTTPS=0 skips it). hybridnode runs with --workers=1 and --workers=2 side by side (plain
# and https), nginx with 2 workers (plain) and 1 and 2 workers (https), all rounds interleaved.
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
./build/hybridnode --role=server --store="$T/store" --listen=127.0.0.1:0 --port-file="$T/hn2.port" \
  --max-transfers=0 --log-level=warn --workers=2 >"$T/hn2.log" 2>&1 &
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
for _ in $(seq 1 100); do [[ -s "$T/hn.port" && -s "$T/hn2.port" ]] && break; sleep 0.05; done
HN="http://127.0.0.1:$(cat "$T/hn.port")"
HN2="http://127.0.0.1:$(cat "$T/hn2.port")"
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
  run hybridnode-2w "$HN2" "$r"
  run nginx "$NG" "$r"
done
if [[ ${HTTPS:-1} == 1 ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
  chmod 644 "$T/key.pem"
  # --tls-handshakes-per-ip=0: wrk opens CONNS connections from one address at once; nginx has no such budget.
  ./build/hybridnode --role=server --store="$T/store" --listen=127.0.0.1:0 --port-file="$T/hns.port" \
    --max-transfers=0 --log-level=warn --tls-cert="$T/cert.pem" --tls-key="$T/key.pem" --tls-handshakes-per-ip=0 >"$T/hns.log" 2>&1 &
  pids+=($!)
  ./build/hybridnode --role=server --store="$T/store" --listen=127.0.0.1:0 --port-file="$T/hns2.port" \
    --max-transfers=0 --log-level=warn --tls-cert="$T/cert.pem" --tls-key="$T/key.pem" --workers=2 --tls-handshakes-per-ip=0 >"$T/hns2.log" 2>&1 &
  pids+=($!)
  for w in 1 2; do  # nginx https, w workers; ssl_sendfile/kTLS needs the kernel's tls module, absent here
    sed -e "s/worker_processes 2;/worker_processes $w;/" -e "s|$T/nginx.pid|$T/nginx$w.pid|" \
        -e "s|listen 127.0.0.1:18181;|listen 127.0.0.1:1844$w ssl; ssl_certificate $T/cert.pem; ssl_certificate_key $T/key.pem; ssl_protocols TLSv1.2 TLSv1.3;|" \
        "$T/nginx.conf" >"$T/nginx$w.conf"
    nginx -c "$T/nginx$w.conf" -g "daemon off;" &
    pids+=($!)
  done
  for _ in $(seq 1 100); do [[ -s "$T/hns.port" && -s "$T/hns2.port" ]] && break; sleep 0.05; done
  sleep 0.3
  for r in $(seq 1 "$ROUNDS"); do
    run hybridnode-https "https://127.0.0.1:$(cat "$T/hns.port")" "$r"
    run hybridnode-https-2w "https://127.0.0.1:$(cat "$T/hns2.port")" "$r"
    run nginx-https-1w "https://127.0.0.1:18441" "$r"
    run nginx-https-2w "https://127.0.0.1:18442" "$r"
  done
fi
python3 - "$csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
names = sorted({r["server"] for r in rows})
med = {s: statistics.median(float(r["requests_per_s"]) for r in rows if r["server"] == s) for s in names}
mb = {s: statistics.median(float(r["mb_per_s"]) for r in rows if r["server"] == s) for s in names}
print(f"median: hybridnode {med['hybridnode']:.0f} req/s {mb['hybridnode']:.0f} MB/s; "
      f"nginx {med['nginx']:.0f} req/s {mb['nginx']:.0f} MB/s; ratio {med['hybridnode']/med['nginx']:.2f}x")
print(f"http: hybridnode --workers=2 {med['hybridnode-2w']:.0f} req/s vs --workers=1 {med['hybridnode']:.0f} req/s: "
      f"{med['hybridnode-2w']/med['hybridnode']:.2f}x; vs nginx (2 workers) {med['hybridnode-2w']/med['nginx']:.2f}x")
if "hybridnode-https" in med:
    for hn, n in (("hybridnode-https", "nginx-https-1w"), ("hybridnode-https-2w", "nginx-https-2w")):
        print(f"https at equal workers: {hn} {med[hn]:.0f} req/s {mb[hn]:.0f} MB/s; "
              f"{n} {med[n]:.0f} req/s {mb[n]:.0f} MB/s; ratio {med[hn]/med[n]:.2f}x")
    print(f"https: hybridnode --workers=2 vs --workers=1: {med['hybridnode-https-2w']/med['hybridnode-https']:.2f}x (target >= 1.6x)")
PY
