# progress.sh (sourced): step LABEL LOG CMD...: run CMD with its output in LOG and show how it
# goes. On a terminal one line, redrawn each second, gives the seconds so far (and make's
# percentage while a build runs); elsewhere (CI logs, pipes) a line every 60 s. The step ends
# with "LABEL: done in N s", or the log's last 40 lines and CMD's exit status.
step() {
  local label=$1 log=$2 start=$SECONDS pid rc=0 percent last=0
  shift 2
  "$@" > "$log" 2>&1 &
  pid=$!
  [ -t 1 ] || echo "$label ..."
  while kill -0 "$pid" 2> /dev/null; do
    percent=$(grep -ao '^\[ *[0-9]*%\]' "$log" 2> /dev/null | tail -n 1 | tr -d '[] ') || true
    if [ -t 1 ]; then
      printf '\r%s: %d s %s  ' "$label" $((SECONDS - start)) "$percent"
    elif [ $((SECONDS - last)) -ge 60 ] && [ $((SECONDS - start)) -ge 60 ]; then
      echo "$label: $((SECONDS - start)) s $percent"
      last=$SECONDS
    fi
    sleep 1
  done
  wait "$pid" || rc=$?
  [ -t 1 ] && printf '\n'
  if [ $rc -ne 0 ]; then
    tail -n 40 "$log"
    echo "$label: failed (exit $rc); the whole output is in $log"
    return $rc
  fi
  echo "$label: done in $((SECONDS - start)) s"
}
