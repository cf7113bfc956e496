#!/usr/bin/env bash
# The paper's 30-epoch MNIST experiments (fp64, mca, mca-nondiff; Methods,
# Figs. 3-4) on real MNIST, two at a time on the machine's cores, then a
# summary table. Resumable: run it again after an interruption and finished
# experiments are kept, interrupted ones continue from their checkpoints.
#   scripts/paper.sh [OUT]   (default results/paper; extra args: SEED=1 EPOCHS=30 JOBS=2)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/results/paper}"
seed="${SEED:-1}"
epochs="${EPOCHS:-30}"
jobs="${JOBS:-2}"
bash "$root/scripts/setup.sh" --mnist >/dev/null
bash "$root/scripts/build.sh" --target mcasim >/dev/null
exe="$root/build/mcasim"
mkdir -p "$out"

run_one() {  # experiment
  local dir="$out/$1"
  if [[ -f "$dir/metrics.json" ]] && grep -q '"status": "complete"' "$dir/metrics.json"; then
    echo "[$1] complete in $dir"
  elif [[ -f "$dir/checkpoint.bin" ]]; then
    "$exe" train --quiet --resume "$dir"
  else
    "$exe" train --quiet --experiment "$1" --epochs "$epochs" --seed "$seed" \
      --data "$root/data/mnist" --out "$dir"
  fi
}
export -f run_one
export out exe epochs seed root

start=$(date +%s)
# Longest first: mca on one core, fp64 then mca-nondiff on the other.
printf '%s\n' mca fp64 mca-nondiff | xargs -P "$jobs" -I{} bash -c 'run_one {} > "$out/{}.log" 2>&1 || { echo "[{}] failed: $out/{}.log"; exit 1; }'
end=$(date +%s)

echo
echo "| experiment | max test accuracy | max train accuracy | cells programmed or weights updated, epoch 1 / 30 | training wall s |"
echo "|---|---|---|---|---|"
for e in fp64 mca mca-nondiff; do
  jq -r --arg e "$e" '"| \($e) | \(.max_test_accuracy * 10000 | round / 100)% | \(.max_train_accuracy * 10000 | round / 100)% | \(.epochs[0].weight_updates) / \(.epochs[-1].weight_updates) | \(.train_wall_s | round) |"' "$out/$e/metrics.json"
done
echo
echo "wall time of the reproduction: $((end - start)) s ($jobs at a time); results in $out"
