#!/usr/bin/env bash
# Load on `clipad serve` over loopback with wrk (Debian's `wrk`; scripts/setup-server-tools installs it): throughput and
# p50 / p99 latency of POST /v2/models/tiny/infer (KServe v2 JSON, base64 PNG) and POST /v1/models/tiny/inspect (the
# PNG as the body) at 1, 8 and 64 connections, ROUNDS rounds of SECONDS each, the median round printed per case.
# Bounded: 2 endpoints x 3 concurrencies x ROUNDS x SECONDS (default 3 x 10 s: about 3 minutes), loopback only.
# The model: the tiny random-weight AnomalyCLIP fixture (Tests/AnomalyCLIPTests/Fixtures, 56 px, 3 layers + DPAM).
# Usage: benchmarks/serve_load.sh [SECONDS] [ROUNDS] [IMAGE.png]     (needs .build/release/clipad)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
rounds=${2:-3}
image=${3:-../shared/data/magnetic-tile/MT_Free/Imgs/exp0_num_743.jpg}
clipad=.build/release/clipad
[[ -x $clipad ]] || { echo "serve_load: no $clipad (swift build -c release --build-tests)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "serve_load: no wrk (scripts/setup-server-tools)" >&2; exit 2; }
[[ -f $image ]] || { echo "serve_load: no image $image" >&2; exit 2; }

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
fixtures=$PWD/Tests/AnomalyCLIPTests/Fixtures
mkdir -p "$work/models/tiny"
cat >"$work/models/tiny/spec.json" <<JSON
{"method": "anomalyclip", "clip": "$fixtures/tiny_clip.safetensors", "prompts": "$fixtures/prompts_official.pth",
 "activation": "quick-gelu", "image_size": 56, "layers": [1, 2, 4], "dpam_blocks": 3}
JSON
# The image as a PNG (the inspect body) and inside a v2 JSON request.
python3 - "$image" "$work" <<'PY'
import base64, json, subprocess, sys
src, work = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
if not data.startswith(b"\x89PNG"):
    png = src.rsplit(".", 1)[0] + ".png"
    data = open(png, "rb").read()
open(work + "/image.png", "wb").write(data)
json.dump({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(data).decode()]}],
           "outputs": [{"name": "score"}]}, open(work + "/infer.json", "w"))
PY
for name in infer inspect; do
  if [[ $name == infer ]]; then file=$work/infer.json type=application/json; else file=$work/image.png type=image/png; fi
  cat >"$work/$name.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "$type"
local f = io.open("$file", "rb"); wrk.body = f:read("*a"); f:close()
LUA
done

"$clipad" serve --model-repository "$work/models" --port 0 --max-queue 256 --max-batch 8 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 100); do grep -q "http://" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -nE 's|.*http://127\.0\.0\.1:([0-9]+).*|\1|p' "$work/serve.out")
[[ -n $port ]] || { echo "serve_load: the server did not start: $(cat "$work/serve.err")" >&2; exit 1; }
curl -sf -o /dev/null "http://127.0.0.1:$port/v2/models/tiny/ready" || { echo "serve_load: model tiny not ready" >&2; exit 1; }

echo "serve_load: $(lscpu | sed -nE 's/^Model name:[[:space:]]+//p'), $(nproc) cores, $(date -u +%Y-%m-%d), ${rounds} rounds of ${seconds} s"
printf "%-8s %7s %12s %10s %10s %8s\n" endpoint clients "req/s" "p50 ms" "p99 ms" errors
for name in infer inspect; do
  if [[ $name == infer ]]; then path=/v2/models/tiny/infer; else path=/v1/models/tiny/inspect; fi
  for clients in 1 8 64; do
    results=()
    for _ in $(seq "$rounds"); do
      out=$(wrk -t "$((clients < 2 ? 1 : 2))" -c "$clients" -d "${seconds}s" --timeout 30s --latency -s "$work/$name.lua" "http://127.0.0.1:$port$path")
      rps=$(sed -nE 's/^Requests\/sec:[[:space:]]+([0-9.]+).*/\1/p' <<<"$out")
      p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
      p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
      non2xx=$(sed -nE 's/^[[:space:]]*Non-2xx or 3xx responses:[[:space:]]+([0-9]+).*/\1/p' <<<"$out")
      errors=${non2xx:-0}
      socket=$(sed -nE 's/.*Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+).*/\1+\2+\3+\4/p' <<<"$out" | bc)
      errors=$(( errors + ${socket:-0} ))
      results+=("$rps $p50 $p99 $errors")
    done
    # The median round by throughput.
    median=$(printf "%s\n" "${results[@]}" | sort -n -k1,1 | sed -n "$(( (rounds + 1) / 2 ))p")
    read -r rps p50 p99 errors <<<"$median"
    to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v / 1000; else if (v ~ /ms$/) printf "%.2f", v + 0; else if (v ~ /s$/) printf "%.2f", v * 1000; else print v }'; }
    printf "%-8s %7d %12s %10s %10s %8s\n" "$name" "$clients" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" "$errors"
  done
done
echo "serve_load: memory of the server after the run: $(ps -o rss= -p "$server" | awk '{ printf "%.0f MiB", $1 / 1024 }')"
