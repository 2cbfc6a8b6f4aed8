#!/usr/bin/env bash
# Several GAN runs at once on one accelerator, for a short GPU lease: the models of the cpu preset are
# far too small to fill a GPU alone, so runs share it (each its own process and runs root).
#
# Usage: scripts/gpu/sweep.sh <benchmark> <pack.npz.xz> <classifier best.pt> <spec file> <out dir>
#   env: MINUTES (each run's budget, default 7), DEVICE (default cuda), MAX_TOP (ensemble members, 4),
#        THREADS (torch threads per run, 2), DATA (where the pack is unpacked, default data/),
#        PRESET (default cpu)
# The pack comes from `python3 -m coinseg_train pack-cache` (no node or NIfTI volumes needed there);
# the classifier from runs/<benchmark>/classifier/best.pt (or `restore-classifier`). Each spec line is
# `NAME KIND [train options...]` (KIND coin or singla; shell quoting; # starts a comment). Per run:
# train, then the val-chosen snapshot ensemble (at most MAX_TOP members); <out>/<NAME>.tar holds its
# best.pt, best-single.pt and log, refreshed every 50 s while it trains (a lease can end early).
# Then, on the host that keeps the models: untar into runs-<NAME>/ and export / evaluate as usual.
set -u
if [ "$#" -ne 5 ]; then sed -n 5,7p "$0" >&2; exit 64; fi
bench=$1; pack=$2; clf=$3; spec=$4; out=$5
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PYTHONUNBUFFERED=1 PYTHONPATH="$root/training${PYTHONPATH:+:$PYTHONPATH}"
MINUTES=${MINUTES:-7}; DEVICE=${DEVICE:-cuda}; MAX_TOP=${MAX_TOP:-4}; THREADS=${THREADS:-2}; PRESET=${PRESET:-cpu}
data=${DATA:-$root/data}; work=$(mktemp -d); mkdir -p "$out"
python3 -m coinseg_train unpack-cache --benchmark "$bench" --data "$data/$bench" --in "$pack" --preset "$PRESET" || exit 3

run() { # name kind train-options...
  local name=$1 kind=$2; shift 2
  local r=$work/$name; mkdir -p "$r/$bench/classifier"; cp "$clf" "$r/$bench/classifier/best.pt"
  local common=(--benchmark "$bench" --data "$data/$bench" --runs "$r" --device "$DEVICE" --threads "$THREADS" --preset "$PRESET")
  python3 -m coinseg_train "train-$kind" "${common[@]}" --minutes "$MINUTES" --set "$kind.snapshots=true" "$@" > "$work/$name.log" 2>&1
  echo "train exit $?" >> "$work/$name.log"
  python3 -m coinseg_train ensemble --model "$kind" "${common[@]}" --max-top "$MAX_TOP" >> "$work/$name.log" 2>&1
  echo "ensemble exit $?" >> "$work/$name.log"
}
collect() { # each run's selected checkpoints and log into <out>/<name>.tar (atomically replaced)
  local d n files p
  for d in "$work"/*/; do
    n=$(basename "$d"); files=()
    for p in "$d$bench"/*/best.pt "$d$bench"/*/best-single.pt; do
      case "$p" in */classifier/*) ;; *) [ -f "$p" ] && files+=("${p#$d}");; esac
    done
    [ "${#files[@]}" -gt 0 ] || continue
    tar -cf "$out/$n.tar.tmp" -C "$d" "${files[@]}" -C "$work" "$n.log" 2>/dev/null && mv "$out/$n.tar.tmp" "$out/$n.tar"
  done
}

pids=()
while read -r line; do
  case "$line" in ''|'#'*) continue;; esac
  eval "set -- $line"
  run "$@" & pids+=($!)
done < "$spec"
( while sleep 50; do collect; done ) & collector=$!
wait "${pids[@]}"
kill "$collector" 2>/dev/null; collect
python3 "$root/scripts/gpu/summary.py" "$work"/*.log
