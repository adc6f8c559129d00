#!/bin/sh
# Records tft/testdata/devnet.csv from a real dev chain (docs/tft.md,
# "Devnet-recorded data"):
#   1. starts bin/basedd --dev with tests/tft/devnet-genesis.json (the short
#      genesis: tempo 9, 600-block years; 200 ms blocks, max_miners 12) in a
#      fresh data directory on a free port;
#   2. starts `based-tft gen --kind devnet` first, following the chain up to
#      height TO (the node keeps only 16 epochs per Brain, so the series are
#      read while the chain runs);
#   3. runs bin/based-devdrive (two Brains, validators posting commit-reveal
#      weights from the driver's model of miner quality, delegation,
#      transfers with a 7-epoch load cycle) until gen has finished;
#   4. stops the driver and the node.
#
#   sh tests/tft/record-devnet.sh [EPOCHS] [OUT] [SEED]
#
# Defaults: 220 epochs, tft/testdata/devnet.csv, seed 1. Takes about
# EPOCHS x 2 s plus set-up (10 blocks of 200 ms per epoch).
set -eu
EPOCHS=${1:-220}
OUT=${2:-tft/testdata/devnet.csv}
SEED=${3:-1}
BIN=${BIN:-bin}
DIR=$(mktemp -d /tmp/based-devnet.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT/
# set-up takes about 40 blocks; then 10 blocks per epoch of Brain A
TO=$((40 + 10 * EPOCHS))

"$BIN/basedd" --dev --genesis tests/tft/devnet-genesis.json --datadir "$DIR/node" \
  --rpc-bind "127.0.0.1:$PORT" > "$DIR/basedd.out" 2>&1 &
NODE=$!
trap 'kill $NODE 2>/dev/null || true; [ -n "${DRIVE:-}" ] && kill $DRIVE 2>/dev/null || true' EXIT
i=0
until [ -s "$DIR/node/.cookie" ] && curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do
  i=$((i + 1)); [ $i -lt 100 ] || { echo "record-devnet: basedd did not start"; cat "$DIR/basedd.out"; exit 1; }
  sleep 0.1
done
COOKIE=$DIR/node/.cookie

"$BIN/based-tft" gen --kind devnet --rpc "$URL" --rpc-cookie "$COOKIE" --from 0 --to $TO \
  --min-steps 60 --out "$OUT" &
GEN=$!
"$BIN/based-devdrive" --rpc "$URL" --rpc-cookie "$COOKIE" --epochs $((EPOCHS + 20)) \
  --seed "$SEED" > "$DIR/drive.out" 2>&1 &
DRIVE=$!
wait $GEN
tail -3 "$DIR/drive.out"
echo "record-devnet: wrote $OUT ($(wc -l < "$OUT") lines), heights 0..$TO; logs in $DIR"
