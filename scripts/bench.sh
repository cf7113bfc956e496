#!/usr/bin/env bash
# Speed figures on real MNIST, one core each:
#  - functional machines (Google Benchmark, median of 5 repetitions);
#  - the SystemC platforms: `mcasim table1` (fixed workload: 10,000 warm-up +
#    10,000 measured training images, 10,000 test images per design) run
#    REPS times, median of each design's training images per wall second.
#   scripts/bench.sh [REPS]   (default 5; needs python3 to read the JSON)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reps="${1:-5}"
bash "$root/scripts/setup.sh" --mnist >/dev/null
bash "$root/scripts/build.sh" --target mcasim bench_train >/dev/null
"$root/build/bench_train" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  2>&1 | grep -E "median|Benchmark"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for i in $(seq "$reps"); do
  taskset -c 0 "$root/build/mcasim" table1 --quiet --out "$tmp/run$i" >/dev/null
done
for design in digital32 digital-mp mca; do
  for i in $(seq "$reps"); do
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["designs"][sys.argv[2]]["train_images_per_wall_s"])' \
      "$tmp/run$i/table1.json" "$design"
  done | sort -g | awk -v d="$design" '{v[NR]=$1} END {printf "platform %-10s median %.0f training images/s (%d runs)\n", d, v[int((NR+1)/2)], NR}'
done
