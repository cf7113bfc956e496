#!/usr/bin/env bash
# Speed and memory figures, one core (docs/benchmarks.md).
#
#   scripts/bench.sh [--reps N] [--cpu C] [--build DIR] [--filter REGEX]
#     Builds the Google Benchmark suite (tests/bench/) and prints the median
#     of N repetitions (default 5) of every benchmark, pinned to core C
#     (default 1): PCM SET/RESET pulses, drift and reads; crossbar MVM and
#     transposed MVM at 785x250 and 251x10; the chi update of one layer; one
#     training image of each functional machine (fp64, mca, mca-nondiff,
#     table1-*); one training image through each SystemC platform (digital32,
#     digital-mp, mca); `mcasim table1` end to end. Whole-image benchmarks use
#     MNIST (fetched by scripts/setup.sh --mnist; MCASIM_DATA overrides
#     data/mnist). Then the network engine (bench_network, not pinned: it runs
#     libtorch on 2 threads, with OMP_WAIT_POLICY=PASSIVE unless set, and its
#     repetitions randomly interleaved): a CNN training step (cnn-cifar10,
#     batch 51) in plain libtorch and in the engine's fp32, digital-mp and mca
#     numerics, and the perceptron (mlp-paper, batch 1) in fp32 and mca.
#     --exe "bench_kernels ..." runs only the executables named.
#   scripts/bench.sh --rss [--hidden "250 1000 4000"] [--cpu C] [--build DIR]
#     Peak resident set size (/usr/bin/time -v) of functional MCA training and
#     of `mcasim table1` for each hidden size, and the bytes per weight of the
#     growth between sizes (least-squares slope over all sizes); then the peak
#     RSS of CNN training (cnn-cifar10 on CIFAR-10, 510 training images in
#     batches of 51, 100 test images) per numerics and its bytes per weight.
#   scripts/bench.sh --rss-cnn [--numerics "fp32 digital-mp mca"] [--build DIR]
#     Only the CNN table. CIFAR-10 from data/cifar10 (MCASIM_CIFAR10 overrides);
#     skipped with a note when it is missing.
#
# --build DIR: build directory (default build/, through scripts/build.sh).
# Needs jq and GNU time (installed with apt-get when missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode=bench
reps=5
cpu=1
build="$root/build"
filter=""
hidden="250 1000 4000"
numerics="fp32 digital-mp mca"
exes="bench_kernels bench_train bench_platform bench_network"
while [ $# -gt 0 ]; do
  case "$1" in
    --rss) mode=rss ;;
    --rss-cnn) mode=rss-cnn ;;
    --numerics) numerics="$2"; shift ;;
    --exe) exes="$2"; shift ;;
    --reps) reps="$2"; shift ;;
    --cpu) cpu="$2"; shift ;;
    --build) build="$(realpath -m "$2")"; shift ;;
    --filter) filter="$2"; shift ;;
    --hidden) hidden="$2"; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

need=()
command -v jq >/dev/null 2>&1 || need+=(jq)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

bash "$root/scripts/setup.sh" --mnist >/dev/null
targets=(mcasim bench_kernels bench_train bench_platform bench_network)
if [ "$build" = "$root/build" ]; then
  bash "$root/scripts/build.sh" --target "${targets[@]}" >/dev/null
else
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMCASIM_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >/dev/null
fi
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "# mcasim $(git -C "$root" describe --always --dirty --tags 2>/dev/null || echo unknown)," \
  "$(date -u +%Y-%m-%dT%H:%MZ), core $cpu of $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$mode" = bench ]; then
  echo
  echo "| benchmark | real time | CPU time | items/s | counters |"
  echo "|---|---|---|---|---|"
  for exe in $exes; do
    args=(--benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true
      --benchmark_out="$tmp/$exe.json" --benchmark_out_format=json)
    [ -n "$filter" ] && args+=(--benchmark_filter="$filter")
    if [ "$exe" = bench_network ]; then
      # Two libtorch threads on every core; waiting OpenMP threads sleep
      # instead of spinning (spinning threads lose their core to other jobs).
      args+=(--benchmark_enable_random_interleaving=true)
      OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" "$build/$exe" "${args[@]}" \
        >"$tmp/$exe.log" 2>&1 || { cat "$tmp/$exe.log" >&2; exit 1; }
    else
      taskset -c "$cpu" "$build/$exe" "${args[@]}" >"$tmp/$exe.log" 2>&1 ||
        { cat "$tmp/$exe.log" >&2; exit 1; }
    fi
    # No benchmark matched the filter: no output file.
    [ -s "$tmp/$exe.json" ] || continue
    # Medians; skipped benchmarks (no data set) with their reason.
    jq -r '
      def num: if . >= 1e6 then "\(. / 1e6 * 100 | round / 100)M"
               elif . >= 1e3 then "\(. / 1e3 * 100 | round / 100)k"
               else "\(. * 100 | round / 100)" end;
      def std: ["name","family_index","per_family_instance_index","run_name","run_type",
                "repetitions","repetition_index","threads","aggregate_name","aggregate_unit",
                "iterations","real_time","cpu_time","time_unit","items_per_second",
                "error_occurred","error_message"];
      def short: sub("/min_time:[0-9.]+"; "") | sub("/iterations:1"; "") | sub("/real_time"; "");
      .benchmarks | sort_by(.family_index, .per_family_instance_index) | .[]
      | if .error_occurred then
          if (.repetition_index // 0) == 0 then
            "| \(.run_name // .name | short) | skipped: \(.error_message) | | | |"
          else empty end
        elif .aggregate_name == "median" or (.repetitions <= 1 and .run_type == "iteration") then
          . as $b
          | "| \(.run_name | short) | \(.real_time * 100 | round / 100) \(.time_unit)"
            + " | \(.cpu_time * 100 | round / 100) \(.time_unit)"
            + " | \(if .items_per_second then (.items_per_second | num) else "" end)"
            + " | \([keys_unsorted[] | select(. as $k | std | index($k) | not)
                     | "\(.)=\($b[.] | num)"] | join(" ")) |"
        else empty end' "$tmp/$exe.json"
  done
  echo
  if [ "$reps" -gt 1 ]; then
    echo "Medians of $reps repetitions (Google Benchmark aggregates); time per iteration:"
  else
    echo "One repetition (--reps 1: no medians); time per iteration:"
  fi
  echo "one pulse/read/MVM/layer update (kernels), one training image (BM_train, BM_platform),"
  echo "one whole \`mcasim table1\` run (BM_table1); bench_network (wall clock, 2 libtorch threads,"
  echo "unpinned, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}): one CNN training step of 51 images"
  echo "(BM_cnn_*), one perceptron training image through the engine, 1 thread (BM_mlp_engine)."
  echo "Load at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  exit 0
fi

rss_kb() {  # rss_kb LOG: "Maximum resident set size (kbytes)" of /usr/bin/time -v
  awk -F': ' '/Maximum resident set size/ {print $2}' "$1"
}

# Peak RSS of CNN training per numerics (mcasim train --network cnn-cifar10).
rss_cnn() {
  local cifar="${MCASIM_CIFAR10:-$root/data/cifar10}"
  echo
  if [ ! -s "$cifar/data_batch_1.bin" ] || [ ! -s "$cifar/test_batch.bin" ]; then
    echo "CNN training peak RSS: skipped (no CIFAR-10 binary batches in $cifar;"
    echo "  place data_batch_1.bin .. test_batch.bin there or set MCASIM_CIFAR10)"
    return 0
  fi
  local weights
  weights=$("$build/mcasim" network show cnn-cifar10 --summary | awk '/parameters in/ {
    for (i = 1; i < NF; ++i) if ($(i + 1) == "parameters") print $i }')
  echo "| numerics | CNN train peak RSS | bytes/weight (RSS / $weights) | above fp32, bytes/weight | wall |"
  echo "|---|---|---|---|---|"
  local base="" n kb wall
  for n in $numerics; do
    /usr/bin/time -v -o "$tmp/cnn-$n.time" "$build/mcasim" train --network cnn-cifar10 \
      --numerics "$n" --dataset cifar10 --data "$cifar" --train-limit 510 --test-limit 100 \
      --epochs 1 --batch 51 --momentum 0.9 --quiet --out "$tmp/cnn-$n" >/dev/null
    kb=$(rss_kb "$tmp/cnn-$n.time")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/cnn-$n.time")
    [ "$n" = fp32 ] && base=$kb
    awk -v n="$n" -v kb="$kb" -v w="$weights" -v b="$base" -v t="$wall" 'BEGIN {
      above = b == "" ? "" : sprintf("%.1f", (kb - b) * 1024 / w)
      printf "| %s | %.1f MiB | %.1f | %s | %s |\n", n, kb / 1024, kb * 1024 / w, above, t }'
  done
  echo
  echo "mcasim train --network cnn-cifar10 --numerics N --dataset cifar10 --train-limit 510"
  echo "  --test-limit 100 --epochs 1 --batch 51 --momentum 0.9 --quiet --out DIR (2 threads)"
}
if [ "$mode" = rss-cnn ]; then
  rss_cnn
  exit 0
fi

# --rss: peak RSS of functional MCA training and of the platforms (table1).
echo
echo "| hidden | weights | functional MCA train peak RSS | table1 (3 platforms) peak RSS |"
echo "|---|---|---|---|"
: >"$tmp/points"
for h in $hidden; do
  weights=$(((784 + 1) * h + (h + 1) * 10))
  taskset -c "$cpu" /usr/bin/time -v -o "$tmp/train-$h.time" "$build/mcasim" train \
    --experiment mca --set experiment.mlp.hidden="$h" --epochs 1 --train-limit 1000 \
    --test-limit 100 --no-train-eval --quiet --out "$tmp/train-$h" >/dev/null
  taskset -c "$cpu" /usr/bin/time -v -o "$tmp/table1-$h.time" "$build/mcasim" table1 \
    --hidden "$h" --images 100 --warmup 0 --test-images 100 --quiet --out "$tmp/table1-$h" \
    >/dev/null
  f=$(rss_kb "$tmp/train-$h.time")
  p=$(rss_kb "$tmp/table1-$h.time")
  echo "$h $weights $f $p" >>"$tmp/points"
  awk -v h="$h" -v w="$weights" -v f="$f" -v p="$p" \
    'BEGIN {printf "| %d | %d | %.1f MiB | %.1f MiB |\n", h, w, f / 1024, p / 1024}'
done
# Bytes per weight: growth from the first size to each larger one, and the
# least-squares slope of RSS against weights over all sizes.
awk '
  { h[NR] = $1; w[NR] = $2; f[NR] = $3 * 1024; p[NR] = $4 * 1024 }
  END {
    print ""
    print "| growth | weights added | functional bytes/weight | table1 bytes/weight |"
    print "|---|---|---|---|"
    for (i = 2; i <= NR; ++i)
      printf "| %d -> %d | %d | %.1f | %.1f |\n", h[1], h[i], w[i] - w[1],
        (f[i] - f[1]) / (w[i] - w[1]), (p[i] - p[1]) / (w[i] - w[1])
    if (NR >= 2) {
      for (i = 1; i <= NR; ++i) { sw += w[i]; sf += f[i]; sp += p[i] }
      mw = sw / NR; mf = sf / NR; mp = sp / NR
      for (i = 1; i <= NR; ++i) {
        sxx += (w[i] - mw) ^ 2; sxf += (w[i] - mw) * (f[i] - mf); sxp += (w[i] - mw) * (p[i] - mp)
      }
      bf = sxf / sxx; bp = sxp / sxx
      for (i = 1; i <= NR; ++i) {
        rf = f[i] - (mf + bf * (w[i] - mw)); rp = p[i] - (mp + bp * (w[i] - mw))
        if (rf < 0) rf = -rf
        if (rp < 0) rp = -rp
        if (rf > ef) ef = rf
        if (rp > ep) ep = rp
      }
      printf "| least squares, all sizes | | %.1f (intercept %.1f MiB, max residual %.2f MiB) | %.1f (intercept %.1f MiB, max residual %.2f MiB) |\n",
        bf, (mf - bf * mw) / 1048576, ef / 1048576, bp, (mp - bp * mw) / 1048576, ep / 1048576
    }
  }' "$tmp/points"
echo
echo "Functional: mcasim train --experiment mca --set experiment.mlp.hidden=H --epochs 1"
echo "  --train-limit 1000 --test-limit 100 --no-train-eval --quiet --out DIR"
echo "Platforms: mcasim table1 --hidden H --images 100 --warmup 0 --test-images 100 --quiet --out DIR"
echo "  (all three designs in one process; table1 loads the whole of MNIST)"
rss_cnn
