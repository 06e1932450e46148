#!/usr/bin/env bash
# The library as users install it (issue 19): `cmake --install` to a prefix that is then moved,
# the examples built out of tree with find_package and with pkg-config, static and shared, and run:
# an embedded server serves a chunk curl verifies, an embedded peer downloads the video byte-identical
# from it, an embedded signaller answers. Then the Debian packages: built by scripts/package.sh,
# unpacked with dpkg-deb -x into a scratch root, the binary, configs, units and dependencies checked,
# and an example built against the packaged headers and libraries.
#   HN_BUILD=the build tree (ctest sets it)
source "$(dirname "$0")/../e2e/lib.sh"
HN_BUILD=${HN_BUILD:-$HN_SRC/build}
libdir_rel=$(sed -n "s/^CMAKE_INSTALL_LIBDIR:PATH=//p" "$HN_BUILD/CMakeCache.txt")
[[ -n "$libdir_rel" ]] || fail "cannot read CMAKE_INSTALL_LIBDIR from $HN_BUILD"

note "install to a prefix, then move it (the install must be relocatable)"
cmake --install "$HN_BUILD" --prefix "$T/first" >/dev/null
mv "$T/first" "$T/prefix"
P=$T/prefix
for f in "$P/$libdir_rel/libhybridnode.a" "$P/$libdir_rel/libhybridnode.so" "$P/include/hybridnode/version.h" \
         "$P/$libdir_rel/cmake/hybridnode/hybridnode-config.cmake" "$P/$libdir_rel/pkgconfig/hybridnode.pc" \
         "$P/etc/hybridnode/server.json" "$P/lib/systemd/system/hybridnode-server.service"; do
  [[ -e "$f" ]] || fail "missing after install: $f"
done
if grep -rlE "$HN_SRC|$HN_BUILD|$T/first" "$P/$libdir_rel/cmake" "$P/$libdir_rel/pkgconfig"; then
  fail "absolute build paths leak into the installed package files"
fi
soname=$(objdump -p "$P/$libdir_rel/libhybridnode.so" | awk '$1=="SONAME"{print $2}')
[[ "$soname" == "libhybridnode.so.0" ]] || fail "SONAME is '$soname'"
# Only the public API leaves the shared library: hn::ContentServer yes, internals (hn::net::) no.
exported=$(nm -D -C --defined-only "$P/$libdir_rel/libhybridnode.so")
grep -q "hn::ContentServer::start" <<<"$exported" || fail "hn::ContentServer::start is not exported"
grep -q "hn::PeerNode::PeerNode" <<<"$exported" || fail "hn::PeerNode is not exported"
names=$(awk '{$1=$2=""; print}' <<<"$exported" | sed 's/^ *//; s/(.*//')
if grep -E "^(hn::(net|p2p|signal|peer|content|config|roles|media|store|policy|util|log)::|.*::Impl::)" <<<"$names" | head -3; then
  fail "internal symbols are exported from libhybridnode.so"
fi
note "exported symbols: $(grep -c ' hn::' <<<"$exported")"

note "examples out of tree with find_package (shared, static)"
for kind in shared static; do
  static=OFF; [[ $kind == static ]] && static=ON
  cmake -S "$HN_SRC/examples" -B "$T/ex-$kind" -DCMAKE_PREFIX_PATH="$P" -Dhybridnode_USE_STATIC_LIBS=$static \
    -DCMAKE_BUILD_TYPE=Release >"$T/ex-$kind.log" 2>&1 || fail "configure ($kind): $(tail -20 "$T/ex-$kind.log")"
  cmake --build "$T/ex-$kind" -j2 >>"$T/ex-$kind.log" 2>&1 || fail "build ($kind): $(tail -30 "$T/ex-$kind.log")"
done
# (outputs are captured first: `cmd | grep -q` under pipefail fails when grep exits early)
out=$(ldd "$T/ex-shared/embed_server")
grep -q "libhybridnode.so.0 => $P/" <<<"$out" || fail "shared example does not use the installed .so"
out=$(ldd "$T/ex-static/embed_server")
if grep -q libhybridnode <<<"$out"; then fail "static example links libhybridnode.so"; fi

note "examples with pkg-config (shared, static)"
export PKG_CONFIG_PATH="$P/$libdir_rel/pkgconfig"
[[ "$(pkg-config --variable=prefix hybridnode)" -ef "$P" ]] || fail "hybridnode.pc prefix $(pkg-config --variable=prefix hybridnode) is not $P"
# shellcheck disable=SC2046
g++ -std=c++17 -O1 "$HN_SRC/examples/embed_peer.cpp" -o "$T/pc_peer_shared" $(pkg-config --cflags --libs hybridnode) \
  -Wl,-rpath,"$P/$libdir_rel" 2>"$T/pc.log" || fail "pkg-config shared build: $(tail -20 "$T/pc.log")"
# shellcheck disable=SC2046
g++ -std=c++17 -O1 "$HN_SRC/examples/embed_peer.cpp" -o "$T/pc_peer_static" $(pkg-config --cflags --libs hybridnode-static) \
  2>>"$T/pc.log" || fail "pkg-config static build: $(tail -20 "$T/pc.log")"
out=$(ldd "$T/pc_peer_static")
if grep -q libhybridnode <<<"$out"; then fail "pkg-config static build links libhybridnode.so"; fi
unset PKG_CONFIG_PATH

note "run them: embedded server, embedded signaller, embedded peer"
make_video "$T/clip.mp4" 3
"$T/ex-static/embed_server" "$T/clip.mp4" "$T/store" >"$T/embed_server.log" 2>&1 &
HN_PIDS+=($!)
for _ in $(seq 1 100); do grep -q "^serving" "$T/embed_server.log" && break; sleep 0.05; done
url=$(awk '/^serving/{print $4}' "$T/embed_server.log")
[[ -n "$url" ]] || fail "embedded server did not start: $(cat "$T/embed_server.log")"
base=${url%/videos/*}
first=$(curl -sf "$url" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chunks"][0]["id"])')
curl -sf "$base/chunks/$first" -o "$T/chunk0"
[[ "$(sha256sum <"$T/chunk0" | cut -d' ' -f1)" == "$first" ]] || fail "embedded server's chunk does not match its id"
"$T/ex-shared/embed_signal" >"$T/embed_signal.log" 2>&1 &
HN_PIDS+=($!)
for _ in $(seq 1 100); do grep -q "signaller at" "$T/embed_signal.log" && break; sleep 0.05; done
sport=$(sed -n "s|.*signaller at ws://127.0.0.1:\([0-9]*\)/ws.*|\1|p" "$T/embed_signal.log")
[[ -n "$sport" ]] || fail "embedded signaller did not start: $(cat "$T/embed_signal.log")"
curl -sf "http://127.0.0.1:$sport/healthz" >/dev/null || fail "embedded signaller does not answer /healthz"
video=${url##*/}
for b in pc_peer_shared pc_peer_static; do
  timeout 60 "$T/$b" "$base" "$video" "$T/$b.mp4" >"$T/$b.log" 2>&1 || fail "$b failed: $(tail -5 "$T/$b.log")"
  cmp -s "$T/$b.mp4" "$T/clip.mp4" || fail "$b: download differs from the source"
done
timeout 60 "$T/ex-shared/embed_peer" "$base" "$video" "$T/cm_peer.mp4" >"$T/cm_peer.log" 2>&1 || fail "embed_peer failed"
cmp -s "$T/cm_peer.mp4" "$T/clip.mp4" || fail "embed_peer: download differs from the source"

note "embedded live viewer: follows a live channel of the real server"
ffmpeg -nostdin -v error -re -f lavfi -i "testsrc=size=320x240:rate=25" -t 30 -c:v libx264 -preset ultrafast \
  -tune zerolatency -g 25 -pix_fmt yuv420p -f mpegts - 2>"$T/live_enc.log" |
  "$HN_BIN" --role=server --listen=127.0.0.1:0 --port-file="$T/live.port" --store="$T/live-store" --live=news=- \
    >"$T/live_srv.log" 2>&1 &
HN_PIDS+=($!)
wait_file "$T/live.port" 10 || fail "live server did not start: $(cat "$T/live_srv.log")"
timeout 40 "$T/ex-static/embed_live_peer" "http://127.0.0.1:$(cat "$T/live.port")" news "$T/live.ts" 6 >"$T/live_peer.log" 2>&1 \
  || fail "embed_live_peer failed: $(tail -5 "$T/live_peer.log")"
grep -q "^player: http://127.0.0.1:[1-9][0-9]*/live/news.m3u8" "$T/live_peer.log" || fail "embed_live_peer: no player endpoint"
"$PY" - "$T/live_peer.log" "$T/live.ts" <<'PY' || fail "embed_live_peer: $(tail -30 "$T/live_peer.log")"
import json, os, sys
text = open(sys.argv[1]).read()
s = json.loads(text[text.index("\n{") + 1:])
assert s["live"] and s["video"] == "news", s
assert s["chunks_delivered"] >= 1 and s["bytes_from_server"] > 0, s
assert os.path.getsize(sys.argv[2]) > 0, "nothing written to the output"
PY

note "Debian packages"
OUT="$T/debs" bash "$HN_SRC/scripts/package.sh" --no-build "$HN_BUILD" >"$T/package.log" 2>&1 || fail "package.sh: $(tail -30 "$T/package.log")"
deb_bin=$(ls "$T"/debs/hybridnode_*.deb) || fail "no hybridnode .deb"
deb_dev=$(ls "$T"/debs/libhybridnode-dev_*.deb) || fail "no libhybridnode-dev .deb"
R=$T/root
for d in "$deb_bin" "$deb_dev"; do
  dpkg-deb -x "$d" "$R"
  deps=$(dpkg-deb -f "$d" Depends)
  [[ -n "$deps" ]] || fail "$(basename "$d") declares no dependencies"
  # Every declared dependency names a package this Debian knows and that is installed here.
  for dep in $(tr ',' '\n' <<<"$deps" | sed 's/(.*)//; s/|.*//; s/ //g'); do
    dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "install ok installed" \
      || fail "$(basename "$d") depends on $dep, which does not resolve here"
  done
done
out=$("$R/usr/bin/hybridnode" --version)
grep -q "hybridnode 0" <<<"$out" || fail "packaged binary: $("$R/usr/bin/hybridnode" --version 2>&1)"
for f in etc/hybridnode/server.json etc/hybridnode/signal.json lib/systemd/system/hybridnode-server.service \
         lib/systemd/system/hybridnode-signal.service usr/include/hybridnode/peer.h; do
  [[ -e "$R/$f" ]] || fail "package lacks /$f"
done
dpkg-deb -I "$deb_bin" conffiles | grep -q /etc/hybridnode/server.json || fail "configs are not conffiles"
if command -v systemd-analyze >/dev/null; then
  # verify checks ExecStart's binary exists: point it at the unpacked root's copy.
  for u in server signal; do
    sed "s|/usr/bin/hybridnode|$R/usr/bin/hybridnode|" "$R/lib/systemd/system/hybridnode-$u.service" >"$T/hybridnode-$u.service"
    systemd-analyze verify "$T/hybridnode-$u.service" >"$T/verify-$u.log" 2>&1 || fail "systemd-analyze verify $u: $(cat "$T/verify-$u.log")"
    if grep -v "Failed to create\|Failed to connect\|No such file or directory$" "$T/verify-$u.log" | grep -q .; then
      fail "systemd-analyze verify $u warns: $(cat "$T/verify-$u.log")"
    fi
  done
else
  note "systemd-analyze not installed: unit files not verified"
fi
pcfile=$(find "$R/usr/lib" -name hybridnode-static.pc | head -1)
[[ -n "$pcfile" ]] || fail "libhybridnode-dev has no hybridnode-static.pc"
export PKG_CONFIG_PATH=$(dirname "$pcfile")
# shellcheck disable=SC2046
g++ -std=c++17 -O1 "$HN_SRC/examples/embed_server.cpp" -o "$T/pkg_server" $(pkg-config --cflags --libs hybridnode-static) \
  2>"$T/pkgbuild.log" || fail "example against the packaged library: $(tail -20 "$T/pkgbuild.log")"
out=$("$T/pkg_server" 2>&1 || true)
grep -q usage <<<"$out" || fail "example built against the package does not run: $out"
echo "PASS package/install: relocatable install, 4 examples x (find_package, pkg-config) x (static, shared), .debs"
