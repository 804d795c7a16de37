#!/usr/bin/env bash
# Measure portolan's idle cost against the Docker engine, next to `docker stats`.
#
# Usage: scripts/perf-idle.sh [N_CONTAINERS=50] [SECONDS=60]
#
# Builds target/release/portolan, starts N idle containers (label
# portolan.perf=1, names portolan-perf-<n>) from the test image, then measures
# three phases of SECONDS each, one after the other:
#   baseline      nothing watching the engine
#   portolan      target/release/portolan running in a detached 120x40 tmux session
#   docker stats  `docker stats > /dev/null` running in the background
# "Engine" is dockerd + containerd + every containerd-shim* process; a
# process's CPU time is utime+stime from /proc/PID/stat, and only processes
# present at both ends of a phase are counted. Also times
# `portolan snapshot --format json --wait 0` (median of 5 runs).
#
# Environment:
#   PORTOLAN_TEST_IMAGE   image for the containers (default portolan-test/busybox:latest)
#   PERF_SKIP_PORTOLAN=1  skip the build, the portolan phase and the snapshot
#                         timing (with a warning), e.g. before the binary exists
#   PERF_SETTLE=5         seconds to wait after the containers are up / a watcher started
#   PERF_RUN_ARGS         extra `docker run` arguments for the containers; for 1,000 on
#                         a small machine: PERF_RUN_ARGS="--network none --memory 8m"
#
# Results go to stdout, progress to stderr. Containers with the label
# portolan.perf=1 and the tmux session portolan-perf are removed on exit.
set -euo pipefail

N="${1:-50}"
SECS="${2:-60}"
SETTLE="${PERF_SETTLE:-5}"
SKIP_PORTOLAN="${PERF_SKIP_PORTOLAN:-0}"
SAMPLE_EVERY=5
LABEL=portolan.perf=1
NAME_PREFIX=portolan-perf-
SESSION=portolan-perf
IMAGE="${PORTOLAN_TEST_IMAGE:-portolan-test/busybox:latest}"

log() { printf 'perf-idle: %s\n' "$*" >&2; }
warn() { printf 'perf-idle: WARNING: %s\n' "$*" >&2; }
die() { printf 'perf-idle: error: %s\n' "$*" >&2; exit 1; }

[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "N_CONTAINERS must be a positive integer (got '$N'); usage: $0 [N_CONTAINERS=50] [SECONDS=60]"
[[ "$SECS" =~ ^[1-9][0-9]*$ ]] || die "SECONDS must be a positive integer (got '$SECS'); usage: $0 [N_CONTAINERS=50] [SECONDS=60]"
[[ "$SETTLE" =~ ^[0-9]+$ ]] || die "PERF_SETTLE must be a non-negative integer"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/portolan"

CLK_TCK="$(getconf CLK_TCK)"
command -v docker >/dev/null 2>&1 || die "docker CLI not found (run .ci/run, or install docker.io)"
timeout 30 docker info >/dev/null 2>&1 || die "the Docker daemon does not answer 'docker info' (start dockerd, or run .ci/run)"
if [[ "$SKIP_PORTOLAN" != 1 ]]; then
    command -v tmux >/dev/null 2>&1 || die "tmux not found (apt-get install -y tmux)"
fi

STATS_PID=""
EXIT_STATUS=0

cleanup() {
    local -
    set +e
    if [[ -n "$STATS_PID" ]] && kill -0 "$STATS_PID" 2>/dev/null; then
        kill "$STATS_PID" 2>/dev/null
        wait "$STATS_PID" 2>/dev/null
    fi
    STATS_PID=""
    if command -v tmux >/dev/null 2>&1 && tmux has-session -t "=$SESSION" 2>/dev/null; then
        tmux kill-session -t "=$SESSION" 2>/dev/null
    fi
    local ids
    ids="$(docker ps -aq --filter "label=$LABEL" 2>/dev/null)"
    if [[ -n "$ids" ]]; then
        log "removing $(wc -w <<<"$ids") container(s) labelled $LABEL"
        # In batches: one `docker rm -f` of a thousand ids left Docker 20.10 on
        # fuse-overlayfs stuck for an hour with a third of them still there.
        xargs -n 50 -P 2 docker rm -f <<<"$ids" >/dev/null 2>&1
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { printf '%s\n' "$EPOCHREALTIME"; }

# engine_snapshot comes from perf-lib.sh.
# shellcheck source=scripts/perf-lib.sh
source "$ROOT/scripts/perf-lib.sh"

# utime+stime ticks of one process (all its threads).
proc_ticks() {
    local stat
    local -a f
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    read -r -a f <<<"${stat##*) }"
    printf '%s\n' "$((f[11] + f[12]))"
}

# VmRSS of one process in KiB.
proc_rss_kib() {
    awk '/^VmRSS:/ { print $2; found = 1 } END { if (!found) exit 1 }' "/proc/$1/status" 2>/dev/null
}

# Results, by phase name.
declare -A ENGINE_PCT DOCKERD_PCT CONTAINERD_PCT SHIM_PCT SHIM_COUNT W_PCT W_RSS_MAX W_RSS_FINAL

# measure PHASE [WATCHER_PID]
measure() {
    local phase="$1" wpid="${2:-}" t0 t1 snap0 snap1 w0="" w1="" rss rss_max=0 rss_final=0 left step
    log "measuring phase '$phase' for $SECS s"
    snap0="$(engine_snapshot)"
    if [[ -n "$wpid" ]]; then
        w0="$(proc_ticks "$wpid")" || die "$phase: watcher (pid $wpid) is gone"
        rss_max="$(proc_rss_kib "$wpid")" || die "$phase: watcher (pid $wpid) is gone"
    fi
    t0="$(now)"
    while :; do
        left="$(awk -v t0="$t0" -v t="$(now)" -v s="$SECS" 'BEGIN { l = s - (t - t0); print (l > 0 ? l : 0) }')"
        [[ "$left" != 0 ]] || break
        step="$(awk -v l="$left" -v e="$SAMPLE_EVERY" 'BEGIN { print (l < e ? l : e) }')"
        sleep "$step"
        if [[ -n "$wpid" ]]; then
            rss="$(proc_rss_kib "$wpid")" || die "$phase: watcher (pid $wpid) exited during the measurement"
            ((rss > rss_max)) && rss_max=$rss
            rss_final=$rss
        fi
    done
    snap1="$(engine_snapshot)"
    if [[ -n "$wpid" ]]; then
        w1="$(proc_ticks "$wpid")" || die "$phase: watcher (pid $wpid) exited during the measurement"
    fi
    t1="$(now)"

    local res
    res="$(awk -v hz="$CLK_TCK" -v el="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" '
        NR == FNR { start[$1] = $3; next }
        ($1 in start) {
            d = $3 - start[$1]; total += d; by[$2] += d
            if ($2 == "shim") shims++
        }
        END {
            f = 100 / hz / el
            printf "%.3f %.3f %.3f %.3f %d %.3f\n", total * f, by["dockerd"] * f, by["containerd"] * f, by["shim"] * f, shims, el
        }' <(printf '%s\n' "$snap0") <(printf '%s\n' "$snap1"))"
    local engine dockerd containerd shim shims el
    read -r engine dockerd containerd shim shims el <<<"$res"
    ENGINE_PCT[$phase]=$engine
    DOCKERD_PCT[$phase]=$dockerd
    CONTAINERD_PCT[$phase]=$containerd
    SHIM_PCT[$phase]=$shim
    SHIM_COUNT[$phase]=$shims
    if [[ -n "$wpid" ]]; then
        W_PCT[$phase]="$(awk -v a="$w0" -v b="$w1" -v hz="$CLK_TCK" -v el="$el" 'BEGIN { printf "%.3f", (b - a) * 100 / hz / el }')"
        W_RSS_MAX[$phase]="$(awk -v k="$rss_max" 'BEGIN { printf "%.1f", k / 1024 }')"
        W_RSS_FINAL[$phase]="$(awk -v k="$rss_final" 'BEGIN { printf "%.1f", k / 1024 }')"
    fi
    log "  engine ${ENGINE_PCT[$phase]}% of one core (dockerd ${DOCKERD_PCT[$phase]}, containerd ${CONTAINERD_PCT[$phase]}, ${SHIM_COUNT[$phase]} shims ${SHIM_PCT[$phase]}) over ${el} s${wpid:+; watcher ${W_PCT[$phase]}%, RSS max ${W_RSS_MAX[$phase]} MB}"
}

# ---------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------
if [[ "$SKIP_PORTOLAN" == 1 ]]; then
    warn "PERF_SKIP_PORTOLAN=1: not building, skipping the portolan phase and the snapshot timing"
else
    command -v cargo >/dev/null 2>&1 || die "cargo not found"
    log "cargo build --release"
    cargo build --release >&2
    [[ -x "$BIN" ]] || die "$BIN was not built"
fi

# ---------------------------------------------------------------------------
# containers
# ---------------------------------------------------------------------------
cleanup # leftovers of an interrupted run (only objects carrying our label)
scripts/test-image.sh >/dev/null

log "starting $N containers from $IMAGE"
read -r -a RUN_ARGS <<<"${PERF_RUN_ARGS:-}"
seq 1 "$N" | xargs -P 4 -I '{}' \
    docker run -d --label "$LABEL" --name "${NAME_PREFIX}{}" "${RUN_ARGS[@]}" "$IMAGE" sleep 100000 >/dev/null \
    || die "could not start the containers"

deadline=$((SECONDS + 60 + 2 * N))
while :; do
    running="$(docker ps -q --filter "label=$LABEL" --filter status=running | wc -l)"
    ((running >= N)) && break
    ((SECONDS < deadline)) || die "only $running of $N containers are running"
    sleep 1
done
log "$running containers running; settling for $SETTLE s"
sleep "$SETTLE"

# ---------------------------------------------------------------------------
# (i) baseline
# ---------------------------------------------------------------------------
measure baseline

# ---------------------------------------------------------------------------
# (ii) portolan
# ---------------------------------------------------------------------------
find_portolan_pid() {
    local pane pid
    pane="$(tmux list-panes -t "=$SESSION" -F '#{pane_pid}' 2>/dev/null | head -n1)" || return 1
    [[ -n "$pane" ]] || return 1
    if [[ "$(cat "/proc/$pane/comm" 2>/dev/null)" == portolan ]]; then
        printf '%s\n' "$pane"
        return 0
    fi
    pid="$(pgrep -P "$pane" -x portolan | head -n1)" || return 1
    [[ -n "$pid" ]] && printf '%s\n' "$pid"
}

PORTOLAN_RAN=0
if [[ "$SKIP_PORTOLAN" != 1 ]]; then
    log "starting portolan in tmux session $SESSION (120x40)"
    env_args=()
    [[ -z "${DOCKER_HOST:-}" ]] || env_args=(-e "DOCKER_HOST=$DOCKER_HOST")
    # If portolan exits, the pane stays (sleep) so that its output can be shown.
    tmux new-session -d -s "$SESSION" -x 120 -y 40 -c "$ROOT" "${env_args[@]}" \
        "$(printf '%q' "$BIN"); echo \"portolan exited with status \$?\"; sleep 600"

    LAUNCHED="$(now)"
    PORTOLAN_PID=""
    for _ in $(seq 1 50); do
        PORTOLAN_PID="$(find_portolan_pid)" && [[ -n "$PORTOLAN_PID" ]] && break
        sleep 0.2
    done
    if [[ -z "$PORTOLAN_PID" ]]; then
        tmux capture-pane -p -t "=$SESSION:" 2>/dev/null | sed "/^[[:space:]]*$/d" >&2 || true
        die "portolan did not start in the tmux session"
    fi
    # Time to the first frame (the header is drawn) and to the whole engine synced
    # (the header says connected, not connecting or syncing d/t), read off the screen.
    FIRST_FRAME_MS="" SYNCED_MS=""
    for _ in $(seq 1 600); do
        screen="$(tmux capture-pane -p -t "=$SESSION:" 2>/dev/null | head -n 1)"
        if [[ -z "$FIRST_FRAME_MS" && "$screen" == *portolan* ]]; then
            FIRST_FRAME_MS="$(awk -v a="$LAUNCHED" -v b="$(now)" 'BEGIN { printf "%.0f", (b - a) * 1000 }')"
        fi
        if [[ "$screen" == *"● connected"* ]]; then
            SYNCED_MS="$(awk -v a="$LAUNCHED" -v b="$(now)" 'BEGIN { printf "%.0f", (b - a) * 1000 }')"
            break
        fi
        sleep 0.02
    done
    log "first frame after ${FIRST_FRAME_MS:-?} ms, synced after ${SYNCED_MS:-?} ms (screen polled every 20 ms)"
    log "portolan pid $PORTOLAN_PID; settling for 5 s"
    sleep 5
    if ! kill -0 "$PORTOLAN_PID" 2>/dev/null; then
        tmux capture-pane -p -t "=$SESSION:" 2>/dev/null | sed "/^[[:space:]]*$/d" >&2 || true
        die "portolan exited during the first 5 s (pane content above)"
    fi
    measure portolan "$PORTOLAN_PID"
    tmux kill-session -t "=$SESSION"
    PORTOLAN_RAN=1
    sleep 2
fi

# ---------------------------------------------------------------------------
# (iii) docker stats
# ---------------------------------------------------------------------------
log "starting docker stats"
docker stats >/dev/null 2>&1 &
STATS_PID=$!
sleep 5
kill -0 "$STATS_PID" 2>/dev/null || die "docker stats exited early"
measure "docker stats" "$STATS_PID"
kill "$STATS_PID" 2>/dev/null || true
wait "$STATS_PID" 2>/dev/null || true
STATS_PID=""

# ---------------------------------------------------------------------------
# snapshot timing
# ---------------------------------------------------------------------------
SNAPSHOT_RESULT="skipped (PERF_SKIP_PORTOLAN=1)"
if [[ "$SKIP_PORTOLAN" != 1 ]]; then
    log "timing: portolan snapshot --format json --wait 0 (5 runs)"
    times=()
    for _ in 1 2 3 4 5; do
        t0="$(now)"
        rc=0
        "$BIN" snapshot --format json --wait 0 >/dev/null || rc=$?
        t1="$(now)"
        if [[ $rc -ne 0 ]]; then
            warn "portolan snapshot exited with status $rc"
            EXIT_STATUS=1
            times=()
            break
        fi
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
    done
    if [[ ${#times[@]} -eq 5 ]]; then
        median="$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)"
        SNAPSHOT_RESULT="median ${median} ms (runs: ${times[*]} ms)"
    else
        SNAPSHOT_RESULT="FAILED"
    fi
fi

# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------
server="$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
driver="$(docker info --format '{{.Driver}}, cgroup v{{.CgroupVersion}}' 2>/dev/null || echo '?')"
base="${ENGINE_PCT[baseline]}"

extra() { awk -v a="$1" -v b="$base" 'BEGIN { printf "%+.3f", a - b }'; }

{
    printf '\nportolan idle cost: %s containers, %s s per phase, %s CPUs, docker %s (%s)\n' \
        "$N" "$SECS" "$(nproc)" "$server" "$driver"
    printf 'CPU figures are %% of one core.\n\n'
    printf '%-14s %11s %14s %13s %19s\n' phase 'engine CPU%' 'extra vs base' 'watcher CPU%' 'watcher RSS max/end'
    printf '%-14s %11s %14s %13s %19s\n' baseline "$base" - - -
    phases=()
    [[ $PORTOLAN_RAN -eq 1 ]] && phases+=(portolan)
    phases+=("docker stats")
    for p in "${phases[@]}"; do
        printf '%-14s %11s %14s %13s %19s\n' "$p" "${ENGINE_PCT[$p]}" "$(extra "${ENGINE_PCT[$p]}")" \
            "${W_PCT[$p]}" "${W_RSS_MAX[$p]}/${W_RSS_FINAL[$p]} MB"
    done
    printf '\nengine breakdown (CPU%%):\n'
    printf '%-14s %9s %11s %16s\n' phase dockerd containerd 'shims (count)'
    for p in baseline "${phases[@]}"; do
        printf '%-14s %9s %11s %16s\n' "$p" "${DOCKERD_PCT[$p]}" "${CONTAINERD_PCT[$p]}" \
            "${SHIM_PCT[$p]} (${SHIM_COUNT[$p]})"
    done
    printf '\n'
    if [[ $PORTOLAN_RAN -eq 1 ]]; then
        awk -v p="${ENGINE_PCT[portolan]}" -v s="${ENGINE_PCT[docker stats]}" -v b="$base" 'BEGIN {
            pe = p - b; se = s - b
            if (se > 0.01) printf "ratio (portolan extra engine CPU) / (docker stats extra engine CPU): %.3f\n", pe / se
            else printf "ratio (portolan extra engine CPU) / (docker stats extra engine CPU): n/a (docker stats extra is %.3f)\n", se
        }'
    else
        printf 'ratio (portolan extra engine CPU) / (docker stats extra engine CPU): n/a (portolan phase skipped)\n'
    fi
    printf 'portolan snapshot --format json --wait 0: %s\n' "$SNAPSHOT_RESULT"
    if [[ $PORTOLAN_RAN -eq 1 ]]; then
        printf 'portolan TUI: first frame %s ms, engine synced %s ms after launch\n' \
            "${FIRST_FRAME_MS:-?}" "${SYNCED_MS:-?}"
    fi
}

exit "$EXIT_STATUS"
