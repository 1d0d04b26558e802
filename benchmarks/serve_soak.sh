#!/usr/bin/env bash
# Memory soak of `clipad serve`: wrk keeps CLIENTS connections posting the image to /v1/models/NAME/inspect for
# MINUTES minutes while the server's resident memory (RSS) is sampled every 10 s. Prints the samples and the growth
# from the end of the first minute (allocators and caches warmed up) to the end; the issue's goal is < 5%.
# Same models as serve_load.sh (ARCH unset: the tiny fixture). Loopback only, bounded by MINUTES.
# Usage: [ARCH=ViT-B-16] benchmarks/serve_soak.sh [MINUTES] [CLIENTS] [IMAGE.jpg]   (needs .build/release/clipad, wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
clients=${2:-8}
image=${3:-../shared/data/magnetic-tile/MT_Free/Imgs/exp0_num_743.jpg}
arch=${ARCH:-}
clipad=$PWD/.build/release/clipad
[[ -x $clipad ]] || { echo "serve_soak: no $clipad (make build)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "serve_soak: no wrk (scripts/setup-server-tools)" >&2; exit 2; }
[[ -f $image ]] || { echo "serve_soak: no image $image" >&2; exit 2; }

work=$(mktemp -d)
server=
trap '[[ -n $server ]] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }; rm -rf "$work"' EXIT
source benchmarks/serve_model.sh
make_model_repository
cat >"$work/inspect.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "image/jpeg"
local f = io.open("$image", "rb"); wrk.body = f:read("*a"); f:close()
LUA

"$clipad" serve --model-repository "$work/models" --port 0 --max-queue 256 --max-batch 8 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 600); do grep -q "http://" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -nE 's|.*http://127\.0\.0\.1:([0-9]+).*|\1|p' "$work/serve.out")
[[ -n $port ]] || { echo "serve_soak: the server did not start: $(cat "$work/serve.err")" >&2; exit 1; }

rss() { ps -o rss= -p "$server" | awk '{ printf "%.1f", $1 / 1024 }'; }
echo "serve_soak: $(lscpu | sed -nE 's/^Model name:[[:space:]]+//p'), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), model ${arch:-tiny fixture}, $clients clients, $minutes min; RSS at start $(rss) MiB"
wrk -t 2 -c "$clients" -d "$((minutes * 60))s" --timeout 60s --latency -s "$work/inspect.lua" "http://127.0.0.1:$port/v1/models/$name/inspect" >"$work/wrk.out" &
load=$!
samples=()
for _ in $(seq "$((minutes * 6))"); do
  sleep 10
  samples+=("$(rss)")
done
wait "$load"
echo "RSS MiB every 10 s: ${samples[*]}"
requests=$(sed -nE 's/^[[:space:]]*([0-9]+) requests in.*/\1/p' "$work/wrk.out")
non2xx=$(sed -nE 's/^[[:space:]]*Non-2xx or 3xx responses:[[:space:]]+([0-9]+).*/\1/p' "$work/wrk.out")
echo "requests: ${requests:-?}, non-2xx: ${non2xx:-0}, $(grep -E 'Socket errors' "$work/wrk.out" || echo 'no socket errors')"
awk -v a="${samples[5]}" -v b="${samples[${#samples[@]}-1]}" 'BEGIN {
  g = 100 * (b - a) / a
  printf "RSS after 1 min %.1f MiB, at the end %.1f MiB: growth %+.1f%% (goal < 5%%): %s\n", a, b, g, (g < 5 ? "met" : "NOT met") }'
