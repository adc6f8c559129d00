#!/bin/sh
# Records tft/testdata/devnet-neurons.csv from the real devnet: a node,
# Brain 7, 2 based-validator and 6 based-miner processes (f32, q8_0,
# cerberus, q4_0, heads, prime), scores from real inference (docs/tft.md,
# "Devnet with real neurons"):
#   1. starts bin/based-devnet --no-board on a fresh data directory, a free
#      RPC port and a free miner port range, with tests/tft/devnet-genesis.json
#      (tempo 9: 10-block epochs of 200 ms blocks, so an epoch is 2 s; a
#      600-block year; weights_rate_limit 5; TFT off, so the incentives are
#      classic Yuma) and validator rounds every INTERVAL blocks (default 5:
#      two rounds per epoch, as `make devnet` has with its tempo 19 and
#      interval 10; the first round of each window reveals the last commit
#      and commits, the second has a whole window's half left if the first
#      was late);
#   2. once the devnet's banner is out (Brain 7 bought, neurons started),
#      runs `based-tft gen --kind devnet --brain 7`, following the chain up
#      to height TO (the node keeps only 16 epochs per Brain);
#   3. stops based-devnet with SIGINT by its PID (it stops its children by
#      theirs) and checks that no process of the devnet is left;
#   4. prints what the validators posted per round (to check they revealed
#      and committed every epoch), their warnings, the devnet's events and
#      which uid runs which compression method.
# Nothing in the network is tuned for the TFT: the neurons run with
# based-devnet's defaults.
#
#   sh tests/tft/record-devnet-neurons.sh [EPOCHS] [OUT] [INTERVAL]
#
# Defaults: 500 epochs, tft/testdata/devnet-neurons.csv, interval 5. Takes
# about EPOCHS x 2 s plus set-up (500 epochs: 17 minutes). The data
# directory (logs in DIR/dev/logs) is kept and printed.
set -eu
EPOCHS=${1:-500}
OUT=${2:-tft/testdata/devnet-neurons.csv}
INTERVAL=${3:-5}
BIN=${BIN:-bin}
DIR=$(mktemp -d /tmp/based-devnet-neurons.XXXXXX)
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
BASE=$(free_port)    # the miners' first port; based-devnet skips busy ones
URL=http://127.0.0.1:$PORT/
# set-up takes a few blocks; then 10 blocks per epoch of Brain 7
TO=$((20 + 10 * EPOCHS))
T0=$(date +%s)

"$BIN/based-devnet" --no-board --datadir "$DIR/dev" --rpc-bind "127.0.0.1:$PORT" \
  --base-port "$BASE" --genesis tests/tft/devnet-genesis.json --interval "$INTERVAL" \
  > "$DIR/devnet.out" 2>&1 &
NET=$!
stop_net() {
  if kill -0 "$NET" 2>/dev/null; then
    kill -INT "$NET"
    wait "$NET" || true
  fi
}
trap stop_net EXIT
i=0
until grep -q 'stop with Ctrl-C' "$DIR/devnet.out"; do
  kill -0 "$NET" 2>/dev/null || { echo "record-devnet-neurons: based-devnet exited"; cat "$DIR/devnet.out"; exit 1; }
  i=$((i + 1)); [ $i -lt 1200 ] || { echo "record-devnet-neurons: based-devnet did not start"; cat "$DIR/devnet.out"; exit 1; }
  sleep 0.1
done
PIDS=$(cat "$DIR"/dev/run/*.pid)

"$BIN/based-tft" gen --kind devnet --rpc "$URL" --rpc-cookie "$DIR/dev/.cookie" --brain 7 \
  --from 0 --to $TO --min-steps 60 --out "$OUT"
T1=$(date +%s)

kill -INT "$NET"
wait "$NET" || { echo "record-devnet-neurons: based-devnet exited with status $?"; exit 1; }
trap - EXIT
left=0
for p in $PIDS; do
  if [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' < "/proc/$p/cmdline" | grep -q "$DIR"; then
    echo "record-devnet-neurons: PID $p is still running: $(tr '\0' ' ' < "/proc/$p/cmdline")"
    left=1
  fi
done
[ $left -eq 0 ] || exit 1

echo "validators' rounds (what each posted):"
for f in "$DIR"/dev/logs/validator-*.log; do
  printf '  %s: %s\n' "$(basename "$f" .log)" \
    "$(grep -o 'posted [a-z+]*' "$f" | sort | uniq -c | tr -s ' ' | tr '\n' ',')"
  grep -E 'missed its reveal|not included|will retry|dropped|no longer a validator' "$f" | sed 's/^/    /' | head -20 || true
done
echo "devnet events after the banner:"
sed -n '/stop with Ctrl-C/,$p' "$DIR/devnet.out" | sed 1d | sed 's/^/  /' | head -40
echo "miners:"
for f in "$DIR"/dev/logs/miner-*.log; do
  printf '  %-16s %s\n' "$(basename "$f" .log)" "$(grep -o 'miner uid [0-9]*' "$f" | head -1)"
done
echo "record-devnet-neurons: wrote $OUT ($(wc -l < "$OUT") lines, $(wc -c < "$OUT") bytes), heights 0..$TO in $((T1 - T0)) s; logs in $DIR"
