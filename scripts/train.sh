#!/usr/bin/env bash
# Trains one model with the Python pipeline (training/) and exports it to models/<benchmark>-<model>/.
# Usage: npm run train -- <benchmark> <classifier|coin|singla> [--preset cpu|paper] [train options...]
#   e.g. npm run train -- kidney-blob classifier
#        npm run train -- kidney-blob coin --minutes 40 --resume
#        npm run train -- kidney-blob coin --inpaint 256 --inpaint-threads 2
#   --inpaint SIZE (coin only): after COIN, train the inpainter (train-inpainter, its preset's minutes) and
#   wrap COIN with it, served at SIZE (inpaint-refine --set coin.size=SIZE); --inpaint-threads T sets the
#   inpainter's torch threads (default: --threads).
# Needs the benchmark in data/<benchmark>/ (npm run dataset) and, for coin/singla, the classifier's
# runs/<benchmark>/classifier/best.pt. Environment: PYTHON (default python3).
set -euo pipefail
if [ "$#" -lt 2 ]; then
  echo "usage: npm run train -- <benchmark> <classifier|coin|singla> [--preset NAME] [options]" >&2
  exit 64
fi
benchmark="$1"; model="$2"; shift 2
case "$model" in classifier|coin|singla) ;; *) echo "error USAGE: unknown model '$model'" >&2; exit 64;; esac
preset="cpu"
inpaint=""; inpaint_threads=()
args=()        # passed to training
shared=()      # passed to training and export (--data, --runs, --threads, --set)
recorded=()    # options that go into the model card's training command
while [ "$#" -gt 0 ]; do
  case "$1" in
    --preset) preset="$2"; shift 2;;
    --preset=*) preset="${1#--preset=}"; shift;;
    --data|--runs) shared+=("$1" "$2"); shift 2;;
    # These change what is trained (or how many steps fit in the budget), so the model card's
    # command carries them; --data, --runs and --resume do not change the result.
    --threads|--set) shared+=("$1" "$2"); recorded+=("$1" "$2"); shift 2;;
    --minutes|--steps) args+=("$1" "$2"); recorded+=("$1" "$2"); shift 2;;
    --inpaint) inpaint="$2"; recorded+=("$1" "$2"); shift 2;;
    --inpaint-threads) inpaint_threads=(--threads "$2"); recorded+=("$1" "$2"); shift 2;;
    *) args+=("$1"); shift;;
  esac
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="$root/training${PYTHONPATH:+:$PYTHONPATH}"
py="${PYTHON:-python3}"
cmd="npm run train -- $benchmark $model"
[ "$preset" != "cpu" ] && cmd="$cmd --preset $preset"
[ "${#recorded[@]}" -gt 0 ] && cmd="$cmd ${recorded[*]}"
if [ -n "$inpaint" ] && { [ "$model" != "coin" ] || ! [[ "$inpaint" =~ ^[1-9][0-9]*$ ]]; }; then
  echo "error USAGE: --inpaint SIZE is for coin, SIZE a positive integer" >&2
  exit 64
fi
"$py" -m coinseg_train "train-$model" --benchmark "$benchmark" --preset "$preset" "${shared[@]+"${shared[@]}"}" "${args[@]+"${args[@]}"}"
if [ -n "$inpaint" ]; then
  "$py" -m coinseg_train train-inpainter --benchmark "$benchmark" --preset "$preset" "${shared[@]+"${shared[@]}"}" "${inpaint_threads[@]+"${inpaint_threads[@]}"}"
  "$py" -m coinseg_train inpaint-refine --benchmark "$benchmark" --preset "$preset" "${shared[@]+"${shared[@]}"}" --set "coin.size=$inpaint"
fi
"$py" -m coinseg_train export --model "$model" --benchmark "$benchmark" --preset "$preset" "${shared[@]+"${shared[@]}"}" --command "$cmd"
