#!/usr/bin/env bash
# How long `simulate` takes per tick with the predictive policy (issue 15: linear in the ticks,
# at most 20 microseconds a tick), against hpa, on the first 10,000, 40,000 and all 125,310
# minutes of World Cup 98 and on the NASA trace: wall-clock seconds of the whole command (trace
# parsing included), best of three, and the peak RSS of that run.
#
# Usage: bench/predictive_speed.sh
#   SCLMAN=path/to/sclman   binary to use (default: a Release build in build-bench/)
#   TRACES=dir              trace directory (default: ../shared/traces next to the repository)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
traces=${TRACES:-$here/../shared/traces}
if [ -z "${SCLMAN:-}" ]; then
  SCLMAN=$here/build-bench/cmd/sclman
  if [ ! -x "$SCLMAN" ]; then
    cmake -S "$here" -B "$here/build-bench" -DCMAKE_BUILD_TYPE=Release -DSCLMAN_TESTS=OFF >/dev/null
    cmake --build "$here/build-bench" -j2 --target sclman >/dev/null
  fi
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -10001 "$traces/worldcup98_1min.csv" >"$tmp/wc98_10k.csv"
head -40001 "$traces/worldcup98_1min.csv" >"$tmp/wc98_40k.csv"
cp "$traces/worldcup98_1min.csv" "$tmp/wc98_all.csv"

echo "| trace | ticks | policy | seconds (best of 3) | microseconds per tick | peak RSS MB |"
echo "|---|---|---|---|---|---|"
for run in "wc98_10k.csv 200" "wc98_40k.csv 200" "wc98_all.csv 200" "nasa 0.5"; do
  set -- $run
  file=$tmp/$1
  [ "$1" != nasa ] || file=$traces/nasa_ksc_jul1995_1min.csv
  ticks=$(($(wc -l <"$file") - 1))
  for policy in predictive hpa; do
    best=
    rss=
    for _ in 1 2 3; do
      /usr/bin/time -f "%e %M" -o "$tmp/time" "$SCLMAN" simulate --trace "$file" --capacity "$2" \
        --boot-delay 180 --policy "$policy" >/dev/null
      read -r s kb <"$tmp/time"
      if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then
        best=$s
        rss=$kb
      fi
    done
    awk -v f="$1" -v n="$ticks" -v p="$policy" -v s="$best" -v kb="$rss" \
      'BEGIN { printf "| %s | %d | %s | %.2f | %.1f | %.1f |\n", f, n, p, s, s * 1e6 / n, kb / 1024 }'
  done
done
