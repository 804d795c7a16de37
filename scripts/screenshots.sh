#!/usr/bin/env bash
# Regenerates screenshots/ from the real demo stacks: every file is what portolan
# renders on this machine's engine, never drawn by hand. Text renders
# (snapshot --format text) of every pane at several sizes; for a curated set also
# pictures: the SVG portolan writes (snapshot --format svg) and a PNG of it made by
# rsvg-convert (Debian's librsvg2-bin, installed if missing, with DejaVu Sans Mono).
#
# Usage: scripts/screenshots.sh   (needs a running engine; starts and removes the demo stacks)
#        PNG_ZOOM=2 scripts/screenshots.sh   for PNGs at twice the size
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PNG_ZOOM=${PNG_ZOOM:-1}
# Check the tools before minutes of demo stacks, not after.
if ! command -v rsvg-convert >/dev/null || ! fc-list 2>/dev/null | grep -q "DejaVu Sans Mono"; then
    echo "screenshots: installing rsvg-convert and DejaVu fonts (librsvg2-bin fonts-dejavu-core)" >&2
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get install -y -q librsvg2-bin fonts-dejavu-core >/dev/null \
        || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q librsvg2-bin fonts-dejavu-core >/dev/null; }
fi
cargo build --release --locked --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/portolan"
STACKS=(nestjs traefik nginx sentineliq nestjs-mysql)
trap '"$BIN" demo down "${STACKS[@]}" >/dev/null 2>&1 || true' EXIT
"$BIN" demo up "${STACKS[@]}" >/dev/null
mkdir -p screenshots
rm -f screenshots/*.txt screenshots/*.svg screenshots/*.png
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
# Inside one container: its files, processes and changes (the nginx stack's proxy).
INSIDE=$(docker ps --filter label=com.docker.compose.project=nginx --format '{{.Names}}' | sort | head -1)
for pane in files processes changes; do
    for size in 80x24 120x40; do
        "$BIN" snapshot --format text --pane "$pane" --container "$INSIDE" \
            --width "${size%x*}" --height "${size#*x}" --wait 3 > "screenshots/$pane-nginx-$size.txt"
    done
done
# The rest of the engine: images, volumes, networks and what the disk holds.
for pane in images volumes networks disk; do
    for size in 80x24 120x40; do
        "$BIN" snapshot --format text --pane "$pane" \
            --width "${size%x*}" --height "${size#*x}" --wait 3 > "screenshots/$pane-$size.txt"
    done
done

# picture NAME ARGS...: screenshots/NAME.svg from portolan, screenshots/NAME.png from it.
picture() {
    local name=$1
    shift
    "$BIN" snapshot --format svg "$@" > "screenshots/$name.svg"
    rsvg-convert --zoom "$PNG_ZOOM" "screenshots/$name.svg" -o "screenshots/$name.png"
}
for stack in "${STACKS[@]}"; do
    picture "map-$stack-120x40" --pane map --project "$stack" --width 120 --height 40 --wait 3
done
for pane in triage containers stats health timeline; do
    picture "$pane-nginx-120x40" --pane "$pane" --project nginx --width 120 --height 40 --wait 3
done
picture routes-traefik-120x40 --pane routes --project traefik --width 120 --height 40 --wait 1
picture routes-nginx-120x40 --pane routes --project nginx --width 120 --height 40 --wait 1
picture audit-nginx-120x40 --pane audit --project nginx --width 120 --height 40 --wait 1
picture triage-nginx-120x40-high-contrast --theme high-contrast --pane triage --project nginx \
    --width 120 --height 40 --wait 1
picture logs-sentineliq-120x40 --pane logs --project sentineliq --width 120 --height 40
picture containers-nginx-120x40-light --theme light --pane containers --project nginx \
    --width 120 --height 40 --wait 3
NO_COLOR=1 picture map-traefik-120x40-mono --pane map --project traefik --width 120 --height 40 --wait 3
picture map-nestjs-80x24 --pane map --project nestjs --width 80 --height 24 --wait 3
picture containers-nginx-80x24 --pane containers --project nginx --width 80 --height 24 --wait 3
picture files-nginx-120x40 --pane files --container "$INSIDE" --width 120 --height 40 --wait 3
picture processes-nginx-120x40 --pane processes --container "$INSIDE" --width 120 --height 40 --wait 3
picture images-120x40 --pane images --width 120 --height 40 --wait 3
picture disk-120x40 --pane disk --width 120 --height 40 --wait 3

# Several engines at once: this engine, a private second one (scripts/second-engine.sh)
# running the nestjs stack, and an address where no engine answers.
SECOND_DIR=$(mktemp -d /tmp/pshot-XXXX)
trap '"$BIN" demo down "${STACKS[@]}" >/dev/null 2>&1 || true; scripts/second-engine.sh stop "$SECOND_DIR" >/dev/null 2>&1 || true' EXIT
SECOND=$(scripts/second-engine.sh start "$SECOND_DIR")
"$BIN" -H "$SECOND" demo up nestjs --image "${PORTOLAN_TEST_IMAGE:-portolan-test/busybox:latest}" >/dev/null
printf '[[hosts]]\nname = "harbour"\nhost = "%s"\n[[hosts]]\nname = "annex"\nhost = "%s"\n[[hosts]]\nname = "edge"\nhost = "tcp://127.0.0.1:1"\n' \
    "${DOCKER_HOST:-unix:///var/run/docker.sock}" "$SECOND" > "$SECOND_DIR/hosts.toml"
sleep 5
for pane in containers map triage stats; do
    for size in 80x24 120x40; do
        "$BIN" --config "$SECOND_DIR/hosts.toml" snapshot --format text --pane "$pane" \
            --width "${size%x*}" --height "${size#*x}" --wait 3 > "screenshots/hosts-$pane-$size.txt"
    done
    picture "hosts-$pane-120x40" --config "$SECOND_DIR/hosts.toml" --pane "$pane" \
        --width 120 --height 40 --wait 3
done
"$BIN" -H "$SECOND" demo down nestjs >/dev/null
ls screenshots
