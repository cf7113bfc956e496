#!/usr/bin/env bash
# Fuzzes the input loaders with libFuzzer (clang, ASan + UBSan), SECONDS per
# target (default 60):
#   fuzz_idx     the MNIST IDX reader (an image file and a label file)
#   fuzz_config  the configuration loader (the input as --config FILE and as --set)
#   fuzz_sweep   the sweep SPEC loader
# Installs clang and libclang-rt-14-dev when missing, builds the targets into
# build-fuzz/ (BUILD_DIR overrides; JOBS build jobs, default 2), seeds each
# run from tests/fuzz/corpus/<target>/ and keeps what a run finds (crash,
# leak, timeout, out of memory) in build-fuzz/crashes/<target>/. Exits 1
# when any target found something; keep such an input under
# tests/fuzz/regressions/<target>/ once it is fixed.
#
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
case "$seconds" in
  -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
  ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;;
esac
dir="${BUILD_DIR:-$root/build-fuzz}"
targets=(fuzz_idx fuzz_config fuzz_sweep fuzz_cifar10)

missing=()
command -v clang++ >/dev/null 2>&1 || missing+=(clang)
dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed" ||
  missing+=(libclang-rt-14-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "fuzz: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi
bash "$root/scripts/setup.sh"  # the build dependencies

cmake -S "$root" -B "$dir" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMCASIM_BUILD_FUZZERS=ON -DMCASIM_BUILD_TESTS=OFF -DMCASIM_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$dir" -j"${JOBS:-2}" --target "${targets[@]}"

found=0
for t in "${targets[@]}"; do
  work="$dir/corpus/$t" crashes="$dir/crashes/$t" log="$dir/logs/$t.log"
  mkdir -p "$work" "$crashes" "$dir/logs"
  dict=()
  [ -f "$root/tests/fuzz/$t.dict" ] && dict=(-dict="$root/tests/fuzz/$t.dict")
  echo "fuzz: $t for ${seconds}s (log: $log)"
  # New inputs go to the work corpus; the checked-in seeds are only read.
  # -timeout: one input running longer is a hang; -rss_limit_mb: a run
  # growing beyond it is an absurd allocation.
  if (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$dir/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "${dict[@]}" -artifact_prefix="$crashes/" \
      "$work" "$root/tests/fuzz/corpus/$t") >"$log" 2>&1; then
    echo "fuzz: $t: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') inputs, nothing found"
  else
    found=1
    echo "fuzz: $t FOUND A PROBLEM:" >&2
    grep -E 'ERROR|SUMMARY|Test unit written|runtime error|uncaught|what\(\)' "$log" | head -20 >&2
  fi
done
if [ "$found" = 1 ]; then
  echo "fuzz: findings in $dir/crashes/ (reproduce: $dir/tests/fuzz/<target> FILE)" >&2
  exit 1
fi
echo "fuzz: no findings"
