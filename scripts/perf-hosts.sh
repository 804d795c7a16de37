#!/usr/bin/env bash
# What following a second engine costs portolan: its CPU and RSS while it watches
# (a) the local engine with N idle containers, then (b) that engine and a private
# second engine (scripts/second-engine.sh) with N idle containers each.
#
# Usage: scripts/perf-hosts.sh [N=25] [SECONDS=60]    (needs root, tmux, a running engine)
# Containers labelled portolan.perf-hosts=1, the tmux session and the second engine
# are removed on exit. Results on stdout, progress on stderr.
set -euo pipefail
N=${1:-25}
SECS=${2:-60}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BIN=$ROOT/target/release/portolan
IMAGE=${PORTOLAN_TEST_IMAGE:-portolan-test/busybox:latest}
LABEL=portolan.perf-hosts=1
SESSION=portolan-perf-hosts
DIR=$(mktemp -d /tmp/pph-XXXX)
CLK_TCK=$(getconf CLK_TCK)
log() { printf 'perf-hosts: %s\n' "$*" >&2; }

cleanup() {
    set +e
    tmux kill-session -t "=$SESSION" 2>/dev/null
    ids=$(docker ps -aq --filter "label=$LABEL")
    [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1
    scripts/second-engine.sh stop "$DIR" >/dev/null 2>&1
}
trap cleanup EXIT

cargo build --release --locked --quiet
log "starting the second engine"
SECOND=$(scripts/second-engine.sh start "$DIR")
for i in $(seq 1 "$N"); do
    docker run -d --label "$LABEL" --name "pph-local-$i" "$IMAGE" sleep 86400 >/dev/null
    docker -H "$SECOND" run -d --network none --label "$LABEL" --name "pph-second-$i" "$IMAGE" sleep 86400 >/dev/null
done
MAIN=${DOCKER_HOST:-unix:///var/run/docker.sock}
printf '[[hosts]]\nname = "local"\nhost = "%s"\n[[hosts]]\nname = "second"\nhost = "%s"\n' \
    "$MAIN" "$SECOND" > "$DIR/two.toml"
printf '[[hosts]]\nname = "local"\nhost = "%s"\n' "$MAIN" > "$DIR/one.toml"

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

measure() {
    local what=$1 config=$2 pid t0 t1 s0 s1
    tmux new-session -d -s "$SESSION" -x 120 -y 40 "$BIN --config $config --pane containers"
    sleep 5
    # The portolan process itself, not the shell tmux started it with.
    pid=
    for candidate in $(pgrep -f "$BIN --config $config"); do
        [ "$(cat "/proc/$candidate/comm" 2>/dev/null)" = portolan ] && pid=$candidate && break
    done
    [ -n "$pid" ] || { echo "perf-hosts: portolan did not start" >&2; exit 1; }
    t0=$(ticks "$pid"); s0=$EPOCHREALTIME
    sleep "$SECS"
    t1=$(ticks "$pid"); s1=$EPOCHREALTIME
    printf '%-28s CPU %6.3f %%  RSS %5.1f MB\n' "$what" \
        "$(echo "($t1 - $t0) / $CLK_TCK / ($s1 - $s0) * 100" | bc -l)" \
        "$(echo "$(rss "$pid") / 1024" | bc -l)"
    tmux kill-session -t "=$SESSION"
    sleep 1
}
log "measuring one engine ($N containers), then two ($N each), $SECS s each"
measure "one engine, $N containers" "$DIR/one.toml"
measure "two engines, $N + $N" "$DIR/two.toml"
