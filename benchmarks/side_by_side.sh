#!/bin/bash
# Runs every `clipad bench` workload of issue 6 next to its PyTorch counterpart, one after the other in this shell,
# so the ratios come from the same minutes of the same machine. By hand, not CI (about 25 minutes on 2 cores for
# 2 rounds; one round with PROMPTAD_EPOCHS=2 PROMPTAD_RUNS=1 about 12). Every `clipad bench` line names the OpenBLAS
# kernels and the GEMM library it ran on; CLIPAD_GEMM=openblas|onednn pins the library.
#
#   benchmarks/side_by_side.sh [ROUNDS]      (default 2 rounds; in each, every workload runs on both sides, ClipAD
#                                            first in odd rounds and PyTorch first in even ones)
#
# Needs: a release build (`swift build -c release`), the reference venv (../shared/tools/reference-venv), and the
# official code exported as tools/fixtures/README.md describes, at /tmp/anomalyclip-official and
# /tmp/promptad-official (override with ANOMALYCLIP_OFFICIAL / PROMPTAD_OFFICIAL). Paste the output into RESULTS.md.
set -u
cd "$(dirname "$0")/.."
rounds=${1:-2}
clipad=${CLIPAD:-$(swift build -c release --show-bin-path)/clipad}
python=${PYTHON:-$HOME/.cache/clipad-reference-venv/bin/python}
anomalyclip_official=${ANOMALYCLIP_OFFICIAL:-/tmp/anomalyclip-official}
promptad_official=${PROMPTAD_OFFICIAL:-/tmp/promptad-official}
py() { "$python" "$@" 2>&1 | grep -E "^pytorch|^  " ; }

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)," \
  "family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ') model $(grep -m1 '^model' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')"
"$clipad" --version
"$clipad" bench sgemm --libraries   # every product on both libraries; the last line judges the built-in choice
# One workload's two sides; odd rounds run ClipAD first, even rounds PyTorch first, because on a shared host the
# process right after a heavy one often runs slower.
pair() {
  local round=$1 ours=$2; shift 2
  if (( round % 2 )); then eval "$ours"; "$@"; else "$@"; eval "$ours"; fi
}
for round in $(seq "$rounds"); do
  echo "## round $round"
  pair "$round" '"$clipad" bench encoder --arch ViT-B-16 --batch-size 8 --runs 3' \
    py benchmarks/pytorch/bench_encoder.py --arch ViT-B-16 --batch 8 --runs 3
  pair "$round" '"$clipad" bench encoder --arch ViT-B-16-plus-240 --batch-size 8 --runs 3' \
    py benchmarks/pytorch/bench_encoder.py --arch ViT-B-16-plus-240 --batch 8 --runs 3
  pair "$round" '"$clipad" bench encoder --arch ViT-L-14-336 --image-size 518 --runs 3' \
    py benchmarks/pytorch/bench_encoder.py --arch ViT-L-14-336 --image-size 518 --batch 1 --runs 3
  pair "$round" '"$clipad" bench anomalyclip --runs 3' \
    py benchmarks/pytorch/bench_anomalyclip.py --official "$anomalyclip_official" --runs 3
  py benchmarks/pytorch/bench_anomalyclip.py --runs 3
  py benchmarks/pytorch/bench_anomalyclip_train.py --official "$anomalyclip_official" --runs 3
done
promptad_epochs=${PROMPTAD_EPOCHS:-10}
promptad_runs=${PROMPTAD_RUNS:-5}
"$clipad" bench promptad --epochs "$promptad_epochs" --runs "$promptad_runs"
py benchmarks/pytorch/bench_promptad.py --official "$promptad_official" --epochs "$promptad_epochs" \
  --reencode-epochs 1 --runs "$promptad_runs"
"$clipad" bench eval
py benchmarks/pytorch/bench_eval.py --runs 1
