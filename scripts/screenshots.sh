#!/usr/bin/env bash
# Regenerates screenshots/ from the real demo stacks: every file is what portolan
# renders (snapshot --format text) on this machine's engine, never drawn by hand.
#
# Usage: scripts/screenshots.sh   (needs a running engine; starts and removes the demo stacks)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --locked --quiet
BIN=target/release/portolan
STACKS=(nestjs traefik nginx sentineliq nestjs-mysql)
trap '"$BIN" demo down "${STACKS[@]}" >/dev/null 2>&1 || true' EXIT
"$BIN" demo up "${STACKS[@]}" >/dev/null
mkdir -p screenshots
rm -f screenshots/*.txt
# Let a few stats samples and probes land.
sleep 5
for stack in "${STACKS[@]}"; do
    for size in 80x24 120x40 200x60; do
        "$BIN" snapshot --format text --pane map --project "$stack" \
            --width "${size%x*}" --height "${size#*x}" --wait 3 > "screenshots/map-$stack-$size.txt"
    done
done
for pane in triage containers stats resources health timeline audit; do
    for size in 80x24 120x40; do
        "$BIN" snapshot --format text --pane "$pane" --project nginx \
            --width "${size%x*}" --height "${size#*x}" --wait 3 > "screenshots/$pane-nginx-$size.txt"
    done
done
for stack in traefik nginx; do
    for size in 80x24 120x40; do
        "$BIN" snapshot --format text --pane routes --project "$stack" \
            --width "${size%x*}" --height "${size#*x}" --wait 1 > "screenshots/routes-$stack-$size.txt"
    done
done
"$BIN" snapshot --format text --pane logs --project sentineliq --height 40 > screenshots/logs-sentineliq.txt
ls screenshots
