#!/usr/bin/env bash
# What a shell in the pane costs under a flood, and whether portolan stays responsive.
#
# Usage: scripts/perf-shell.sh [SECONDS=20] [RATE_MB=5]   (root, tmux, a running engine)
#
# 1. The shell pane on a container runs `yes` flat out. Measured: the bytes `yes`
#    writes per second (its /proc/PID/io; the shell's TTY can only go as fast as
#    portolan reads), portolan's CPU over SECONDS, its RSS, and key → redraw latency:
#    with the keys given back to portolan (ctrl-]), `?` is sent 15 times and timed
#    until the help shows (includes tmux's polling).
# 2. The shell pane runs a paced printer: RATE_MB MB/s of the same line, a block
#    every 100 ms. 3. The Logs pane follows a container running that same printer.
#    Measured for both: the rate reached, portolan's CPU and RSS, and the latency.
#    (The engine's json-file logging tops out well below a flooding TTY, hence a
#    common rate.)
# Nothing here is a pass/fail test: it prints numbers. Containers labelled
# portolan.perf-shell=1 and the tmux session are removed on exit.
#
# Environment: CARGO_TARGET_DIR (the binary is $CARGO_TARGET_DIR/release/portolan),
# PERF_SKIP_BUILD=1 to use the binary as it is, PORTOLAN_TEST_IMAGE.
set -euo pipefail
SECS=${1:-20}
RATE_MB=${2:-5}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/portolan
IMAGE=${PORTOLAN_TEST_IMAGE:-portolan-test/busybox:latest}
LABEL=portolan.perf-shell=1
SESSION=portolan-perf-shell
LINE='flooding the terminal with lines 0123456789'
CLK_TCK=$(getconf CLK_TCK)
log() { printf 'perf-shell: %s\n' "$*" >&2; }

cleanup() {
    set +e
    tmux kill-session -t "=$SESSION" 2>/dev/null
    ids=$(docker ps -aq --filter "label=$LABEL")
    [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1
}
trap cleanup EXIT
cleanup

if [ "${PERF_SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release --locked --quiet
fi

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
wchar() { awk '/^wchar:/ { print $2 }' "/proc/$1/io"; }
screen() { tmux capture-pane -p -t "$SESSION"; }

# The portolan process itself, not the shell tmux started it with.
portolan_pid() {
    local candidate
    for candidate in $(pgrep -f "$BIN"); do
        [ "$(cat "/proc/$candidate/comm" 2>/dev/null)" = portolan ] && echo "$candidate" && return
    done
    echo "perf-shell: portolan did not start" >&2
    exit 1
}

# The host pid of the one process named $2 in container $1.
container_pid() {
    docker top "$1" -o pid,comm | awk -v comm="$2" '$2 == comm { print $1; exit }'
}

wait_for() {
    local what=$1 pattern=$2 tries=0
    until screen | grep -q -- "$pattern"; do
        tries=$((tries + 1))
        [ "$tries" -lt 300 ] || { log "timed out waiting for $what"; screen >&2; exit 1; }
        sleep 0.1
    done
}

# Median of key → redraw over 15 tries of `?` (help) and Escape.
latency() {
    local start end
    local -a ms=()
    for _ in $(seq 1 15); do
        start=$(date +%s%N)
        tmux send-keys -t "$SESSION" '?'
        until screen | grep -q 'show or hide this help'; do sleep 0.002; done
        end=$(date +%s%N)
        ms+=($(((end - start) / 1000000)))
        tmux send-keys -t "$SESSION" Escape
        while screen | grep -q 'show or hide this help'; do sleep 0.002; done
        sleep 0.2
    done
    printf '%s\n' "${ms[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "median %d ms (min %d, max %d)", a[int((NR + 1) / 2)], a[1], a[NR] }'
}

# CPU % of one core portolan used over SECS, and the bytes/s container process
# $2 (host pid) wrote meanwhile.
measure() {
    local pid=$1 writer=$2 t0 t1 w0 w1 s0 s1
    t0=$(ticks "$pid"); w0=$(wchar "$writer"); s0=$EPOCHREALTIME
    sleep "$SECS"
    t1=$(ticks "$pid"); w1=$(wchar "$writer"); s1=$EPOCHREALTIME
    CPU=$(echo "($t1 - $t0) / $CLK_TCK / ($s1 - $s0) * 100" | bc -l)
    RATE=$(echo "($w1 - $w0) / ($s1 - $s0)" | bc -l)
}

# 1. The shell floods.
box=portolan-perf-shell-box
docker run -d --name "$box" --label "$LABEL" "$IMAGE" sleep 86400 >/dev/null
tmux new-session -d -s "$SESSION" -x 120 -y 40 "$BIN --pane shell --container $box"
wait_for "the shell" 'keys go to the shell'
wait_for "the prompt" ' # '
tmux send-keys -t "$SESSION" "yes '$LINE'" Enter
sleep 2
pid=$(portolan_pid)
yes_pid=$(container_pid "$box" yes)
[ -n "$yes_pid" ] || { log "yes is not running in the shell"; screen >&2; exit 1; }
# The keys back to portolan: the shell floods on, portolan answers its own keys.
tmux send-keys -t "$SESSION" C-]
wait_for "portolan's keys" 'type in the shell'
log "measuring the shell flood for ${SECS}s"
measure "$pid" "$yes_pid"
shell_cpu=$CPU shell_rate=$RATE
shell_rss=$(rss_mib "$pid")
shell_latency=$(latency)
tmux kill-session -t "=$SESSION"
docker rm -f "$box" >/dev/null

# 2 and 3. The same paced printer, in the shell pane and then as a container's log:
# a block of lines every 100 ms. The engine's json-file logging tops out below what
# a shell's TTY carries, so the two are compared at a rate both reach.
block=$((RATE_MB * 100000))
printer="yes '$LINE' | head -c $block > /tmp/block; n=0; while :; do cat /tmp/block; n=\$((n + 1)); echo \$n > /tmp/count; usleep 100000; done"
# Blocks printed so far; the file is rewritten each block, so an empty read is retried.
count() {
    local n=
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        n=$(docker exec "$1" cat /tmp/count 2>/dev/null | tr -dc 0-9)
        [ -n "$n" ] && break
        sleep 0.05
    done
    echo "${n:-0}"
}

box=portolan-perf-shell-paced
docker run -d --name "$box" --label "$LABEL" "$IMAGE" sleep 86400 >/dev/null
printf '%s\n' "$printer" | docker exec -i "$box" sh -c 'cat > /paced.sh'
tmux new-session -d -s "$SESSION" -x 120 -y 40 "$BIN --pane shell --container $box"
wait_for "the shell" 'keys go to the shell'
wait_for "the prompt" ' # '
tmux send-keys -t "$SESSION" "sh /paced.sh" Enter
sleep 2
pid=$(portolan_pid)
tmux send-keys -t "$SESSION" C-]
wait_for "portolan's keys" 'type in the shell'
log "measuring the shell at ${RATE_MB} MB/s for ${SECS}s"
c0=$(count "$box"); s0=$EPOCHREALTIME
measure "$pid" "$pid"
c1=$(count "$box"); s1=$EPOCHREALTIME
paced_cpu=$CPU
paced_rate=$(echo "($c1 - $c0) * $block / ($s1 - $s0)" | bc -l)
paced_rss=$(rss_mib "$pid")
paced_latency=$(latency)
tmux kill-session -t "=$SESSION"
docker rm -f "$box" >/dev/null

logger=portolan-perf-shell-logs
# A log that does not rotate during the measure (this engine's default may).
docker run -d --name "$logger" --label "$LABEL" --log-opt max-size=4g --log-opt max-file=1 \
    "$IMAGE" sh -c "$printer" >/dev/null
tmux new-session -d -s "$SESSION" -x 120 -y 40 "$BIN --pane logs --container $logger"
wait_for "the log" "$LINE"
sleep 2
pid=$(portolan_pid)
log "measuring the Logs pane at ${RATE_MB} MB/s for ${SECS}s"
c0=$(count "$logger"); s0=$EPOCHREALTIME
measure "$pid" "$pid"
c1=$(count "$logger"); s1=$EPOCHREALTIME
logs_cpu=$CPU
logs_rate=$(echo "($c1 - $c0) * $block / ($s1 - $s0)" | bc -l)
logs_rss=$(rss_mib "$pid")
logs_latency=$(latency)

mb() { printf '%6.2f' "$(echo "$1 / 1000000" | bc -l)"; }
printf 'shell pane, yes flat out: %s MB/s, portolan CPU %5.1f %%, RSS %s MiB, key→redraw %s\n' \
    "$(mb "$shell_rate")" "$shell_cpu" "$shell_rss" "$shell_latency"
printf 'shell pane, paced:        %s MB/s, portolan CPU %5.1f %%, RSS %s MiB, key→redraw %s\n' \
    "$(mb "$paced_rate")" "$paced_cpu" "$paced_rss" "$paced_latency"
printf 'logs pane, paced:         %s MB/s, portolan CPU %5.1f %%, RSS %s MiB, key→redraw %s\n' \
    "$(mb "$logs_rate")" "$logs_cpu" "$logs_rss" "$logs_latency"
