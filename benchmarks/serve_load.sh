#!/usr/bin/env bash
# Load on `clipad serve` over loopback with wrk (Debian's `wrk`; scripts/setup-server-tools installs it): throughput and
# p50 / p99 latency of POST /v2/models/NAME/infer (KServe v2 JSON, the JPEG base64 as BYTES) and POST
# /v1/models/NAME/inspect (the JPEG as the body) at 1, 8 and 64 connections, ROUNDS rounds of SECONDS each, the median
# round printed per case.
#
# The model: by default the tiny random-weight AnomalyCLIP fixture (Tests/AnomalyCLIPTests/Fixtures, 56 px, 3 layers
# + DPAM). With ARCH set (e.g. ARCH=ViT-B-16), a real architecture with random weights and random prompts written by
# `clipad bench checkpoint`, AnomalyCLIP at the backbone's defaults; the same image is then also run through offline
# `clipad predict` (OFFLINE_IMAGES and twice as many copies, the difference of the two runs giving the per-image time
# without the model load) and the issue's goals are printed: server throughput >= 90% of offline, p99 at 8 clients
# <= 1.5x the single-image time.
#
# Bounded: 2 endpoints x 3 concurrencies x ROUNDS x SECONDS (default 3 x 10 s: about 3 minutes), loopback only.
# Usage: [ARCH=ViT-B-16] [OFFLINE_IMAGES=8] benchmarks/serve_load.sh [SECONDS] [ROUNDS] [IMAGE.jpg]   (needs .build/release/clipad)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
rounds=${2:-3}
image=${3:-../shared/data/magnetic-tile/MT_Free/Imgs/exp0_num_743.jpg}
arch=${ARCH:-}
offline_images=${OFFLINE_IMAGES:-8}
clipad=$PWD/.build/release/clipad
[[ -x $clipad ]] || { echo "serve_load: no $clipad (make build)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "serve_load: no wrk (scripts/setup-server-tools)" >&2; exit 2; }
[[ -f $image ]] || { echo "serve_load: no image $image" >&2; exit 2; }
case $image in *.jpg|*.jpeg|*.JPG|*.JPEG) type=image/jpeg ;; *.png|*.PNG) type=image/png ;; *) echo "serve_load: $image is not .jpg or .png" >&2; exit 2 ;; esac

work=$(mktemp -d)
server=
trap '[[ -n $server ]] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }; rm -rf "$work"' EXIT
source benchmarks/serve_model.sh
make_model_repository
python3 - "$image" "$work" <<'PY'
import base64, json, sys
src, work = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
json.dump({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(data).decode()]}],
           "outputs": [{"name": "score"}]}, open(work + "/infer.json", "w"))
PY
for endpoint in infer inspect; do
  if [[ $endpoint == infer ]]; then file=$work/infer.json content=application/json; else file=$image content=$type; fi
  cat >"$work/$endpoint.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "$content"
local f = io.open("$file", "rb"); wrk.body = f:read("*a"); f:close()
LUA
done

echo "serve_load: $(lscpu | sed -nE 's/^Model name:[[:space:]]+//p'), $(nproc) cores, $(date -u +%Y-%m-%d), model ${arch:-tiny fixture}, ${rounds} rounds of ${seconds} s"

# Offline predict first (the server is not running yet): seconds per image from N and 2N copies of the image.
per_image=
if [[ -n $arch ]]; then
  predict_seconds() {   # $1 = copies -> wall seconds of one `clipad predict` over them
    rm -rf "$work/offline" "$work/offline-out"; mkdir -p "$work/offline"
    for i in $(seq "$1"); do cp "$image" "$work/offline/copy$i.${image##*.}"; done
    local start end
    start=$(date +%s.%N)
    "$clipad" predict --method anomalyclip "${method_args[@]}" --maps none --output "$work/offline-out" "$work/offline" >/dev/null 2>&1
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
  }
  t1=$(predict_seconds "$offline_images")
  t2=$(predict_seconds "$((2 * offline_images))")
  per_image=$(awk -v a="$t1" -v b="$t2" -v n="$offline_images" 'BEGIN { printf "%.4f", (b - a) / n }')
  echo "offline predict: $offline_images images ${t1} s, $((2 * offline_images)) images ${t2} s -> ${per_image} s/image ($(awk -v p="$per_image" 'BEGIN { printf "%.2f", 1 / p }') images/s)"
fi

"$clipad" serve --model-repository "$work/models" --port 0 --max-queue 256 --max-batch 8 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 600); do grep -q "http://" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -nE 's|.*http://127\.0\.0\.1:([0-9]+).*|\1|p' "$work/serve.out")
[[ -n $port ]] || { echo "serve_load: the server did not start: $(cat "$work/serve.err")" >&2; exit 1; }
curl -sf -o /dev/null "http://127.0.0.1:$port/v2/models/$name/ready" || { echo "serve_load: model $name not ready: $(cat "$work/serve.err")" >&2; exit 1; }

to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v / 1000; else if (v ~ /ms$/) printf "%.2f", v + 0; else if (v ~ /m$/) printf "%.2f", v * 60000; else if (v ~ /s$/) printf "%.2f", v * 1000; else print v }'; }
# wrk stops at the deadline with requests still queued in the server (it computes what it admitted): wait until the
# queue and the in-flight gauge are back to 0 so one case's leftovers do not land in the next case's latencies.
wait_idle() {
  for _ in $(seq 1200); do
    busy=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^clipad_(queue_depth|in_flight)_requests[{ ]/ { s += $NF } END { print s + 0 }')
    [[ $busy == 0 ]] && return
    sleep 0.1
  done
}
printf "%-8s %7s %12s %10s %10s %8s\n" endpoint clients "req/s" "p50 ms" "p99 ms" errors
declare -A rate p99s
for endpoint in infer inspect; do
  if [[ $endpoint == infer ]]; then path=/v2/models/$name/infer; else path=/v1/models/$name/inspect; fi
  for clients in 1 8 64; do
    results=()
    for _ in $(seq "$rounds"); do
      wait_idle
      out=$(wrk -t "$((clients < 2 ? 1 : 2))" -c "$clients" -d "${seconds}s" --timeout 120s --latency -s "$work/$endpoint.lua" "http://127.0.0.1:$port$path")
      rps=$(sed -nE 's/^Requests\/sec:[[:space:]]+([0-9.]+).*/\1/p' <<<"$out")
      p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
      p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
      non2xx=$(sed -nE 's/^[[:space:]]*Non-2xx or 3xx responses:[[:space:]]+([0-9]+).*/\1/p' <<<"$out")
      errors=${non2xx:-0}
      socket=$(sed -nE 's/.*Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+).*/\1+\2+\3+\4/p' <<<"$out" | bc)
      errors=$(( errors + ${socket:-0} ))
      results+=("$rps $(to_ms "$p50") $(to_ms "$p99") $errors")
    done
    # The median round by throughput.
    median=$(printf "%s\n" "${results[@]}" | sort -n -k1,1 | sed -n "$(( (rounds + 1) / 2 ))p")
    read -r rps p50 p99 errors <<<"$median"
    rate[$endpoint.$clients]=$rps
    p99s[$endpoint.$clients]=$p99
    printf "%-8s %7d %12s %10s %10s %8s\n" "$endpoint" "$clients" "$rps" "$p50" "$p99" "$errors"
  done
done
echo "serve_load: memory of the server after the run: $(ps -o rss= -p "$server" | awk '{ printf "%.0f MiB", $1 / 1024 }')"

if [[ -n $per_image ]]; then
  for endpoint in infer inspect; do
    best=$(printf "%s\n" "${rate[$endpoint.1]}" "${rate[$endpoint.8]}" "${rate[$endpoint.64]}" | sort -g | tail -n 1)
    awk -v r="$best" -v p="$per_image" -v q="${p99s[$endpoint.8]}" -v r8="${rate[$endpoint.8]}" -v e="$endpoint" 'BEGIN {
      t = r * p; l = q / 1000 / p; floor = 8 / r8
      printf "goal %-7s throughput %.2f req/s = %.0f%% of offline (goal >= 90%%): %s\n", e, r, 100 * t, (t >= 0.9 ? "met" : "NOT met")
      printf "goal %-7s p99 at 8 clients %.0f ms = %.2fx the single-image time (goal <= 1.5x): %s; against the closed-loop floor (8 clients / %.2f req/s = %.0f ms, Little'"'"'s law) %.2fx\n",
        e, q, l, (l <= 1.5 ? "met" : "NOT met"), r8, 1000 * floor, q / 1000 / floor }'
  done
fi
