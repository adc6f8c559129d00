#!/bin/sh
# Runs every test binary given as an argument, passing $T (test names or
# prefixes ending in '*') through, and ends with the total line
# "N passed, N failed". Exit status is non-zero if any test failed.
set -f  # $T holds patterns for the test binaries, not for the shell
total_p=0; total_f=0; status=0
BASED_BIN="${BASED_BIN:-${BIN:-bin}}"; export BASED_BIN
BASED_BUILD="${BASED_BUILD:-${BUILD:-build}}"; export BASED_BUILD
for b in "$@"; do
  echo "== $(basename "$b")"
  out=$("$b" $T 2>&1); rc=$?
  printf '%s\n' "$out" | sed '$d'
  last=$(printf '%s\n' "$out" | tail -n 1)
  p=$(printf '%s' "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p')
  f=$(printf '%s' "$last" | sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p')
  if [ -z "$p" ]; then
    printf '%s\n' "$last"
    echo "   $(basename "$b") did not finish (exit $rc)"; p=0; f=1
  fi
  [ "$rc" -ne 0 ] && status=1
  total_p=$((total_p + p)); total_f=$((total_f + f))
done
[ "$total_f" -ne 0 ] && status=1
echo "$total_p passed, $total_f failed"
exit $status
