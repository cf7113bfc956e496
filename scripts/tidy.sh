#!/usr/bin/env bash
# clang-tidy over every source of util/, models/, workloads/, platform/, app/, power/ and
# traces/ with the checked-in .clang-tidy; exit status 1 on any finding.
#   scripts/tidy.sh [JOBS]   (default: the number of cores; ~5 min on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${1:-$(nproc)}"
command -v run-clang-tidy >/dev/null 2>&1 || {
  sudo_cmd=""
  [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends clang-tidy
}
bash "$root/scripts/setup.sh" >/dev/null
# compile_commands.json (and the generated version source) come from the build.
bash "$root/scripts/build.sh" --target mcasim >/dev/null
cd "$root"
mapfile -t files < <(ls util/*.cpp models/*.cpp workloads/*.cpp platform/*.cpp app/*.cpp power/*.cpp traces/*.cpp)
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
run-clang-tidy -quiet -p build -j "$jobs" "${files[@]/#/$root/}" >"$log" 2>&1 || true
if grep -E "(warning|error):" "$log" | grep -v "^[0-9]* warnings generated" ; then
  echo "tidy: findings above (.clang-tidy)" >&2
  exit 1
fi
echo "tidy: ${#files[@]} sources clean"
