#!/usr/bin/env bash
# The main job: installs what is missing, fetches and verifies MNIST, builds,
# and reproduces the paper's Table I on real MNIST through the SystemC
# platforms of the 32-bit, digital mixed-precision and MCA designs.
#   scripts/main.sh [--data DIR] [--out DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/data/mnist"
out="$root/results/table1"
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="$2"; shift ;;
    --out) out="$2"; shift ;;
    *) echo "main.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
bash "$root/scripts/setup.sh" --mnist --data "$data"
bash "$root/scripts/build.sh" --target mcasim
"$root/build/mcasim" table1 --seed 1 --data "$data" --out "$out"
