#!/usr/bin/env bash
# What the flight recorder costs, and what its file grows by.
#
# Usage: scripts/perf-record.sh [N_CONTAINERS=50] [SECONDS=60] [BINARY=target/release/portolan]
#
# Starts N idle containers (label portolan.perf=1), then:
#   1. `portolan record --db TMP` for SECONDS: its CPU (utime+stime of the process,
#      % of one core) and its peak RSS (VmHWM);
#   2. the UI in a 120x40 tmux session for SECONDS, with recording on and then with
#      --no-record: the difference is what recording costs the UI;
#   3. the file: bytes per stats row (rows written in phase 1, the file's size after
#      a checkpoint), extrapolated to the default retention (every sample for 1 h,
#      10 s averages for a day, 1 min averages for 30 days) for N containers;
#   4. reading the record: `portolan history --since 24h` against the file of phase 1.
# Results to stdout, progress to stderr. The containers are removed on exit.
set -euo pipefail

N="${1:-50}"
SECS="${2:-60}"
BIN="${3:-target/release/portolan}"
IMAGE="${PORTOLAN_TEST_IMAGE:-portolan-test/busybox:latest}"
LABEL=portolan.perf=1
SESSION=portolan-perf-record
TMP="$(mktemp -d)"

log() { printf 'perf-record: %s\n' "$*" >&2; }
cleanup() {
    tmux -L "$SESSION" kill-server 2>/dev/null || true
    docker ps -aq --filter "label=$LABEL" | xargs -r -n 50 docker rm -f >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

[[ -x "$BIN" ]] || { log "$BIN is not built (cargo build --release)"; exit 1; }
hz="$(getconf CLK_TCK)"

ticks() { # utime+stime of a pid
    local stat; stat="$(cat "/proc/$1/stat")"
    local -a f; read -r -a f <<<"${stat##*) }"
    echo $((f[11] + f[12]))
}
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

log "starting $N idle containers"
for i in $(seq 1 "$N"); do
    docker run -d --label "$LABEL" --name "portolan-perf-rec-$i" --network none "$IMAGE" sleep 100000 >/dev/null
done
sleep 5

# 1. the recorder alone.
db="$TMP/record.db"
"$BIN" record --db "$db" 2>"$TMP/record.err" &
pid=$!
sleep 5 # past the start-up inventory: the steady state is what a service costs
t0="$(ticks "$pid")"
sleep "$SECS"
t1="$(ticks "$pid")"
rss="$(hwm_kib "$pid")"
kill -TERM "$pid"; wait "$pid" || true
record_cpu="$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$SECS" 'BEGIN { printf "%.3f", (b - a) * 100 / hz / s }')"
echo "recorder, $N idle containers, ${SECS}s: CPU ${record_cpu}% of one core, peak RSS $((rss / 1024)) MiB ($rss KiB)"

# 2. the UI, with and without recording.
ui_cost() { # extra args... -> "cpu% rss_kib"
    tmux -L "$SESSION" kill-server 2>/dev/null || true
    XDG_STATE_HOME="$TMP/ui-state" tmux -L "$SESSION" -f /dev/null new-session -d -s main -x 120 -y 40 \
        "XDG_STATE_HOME=$TMP/ui-state exec $BIN $*"
    sleep 5
    local upid; upid="$(tmux -L "$SESSION" display-message -p -t main '#{pane_pid}')"
    local a b; a="$(ticks "$upid")"; sleep "$SECS"; b="$(ticks "$upid")"
    local r; r="$(hwm_kib "$upid")"
    tmux -L "$SESSION" kill-server 2>/dev/null || true
    awk -v a="$a" -v b="$b" -v hz="$hz" -v s="$SECS" -v r="$r" 'BEGIN { printf "%.3f %d", (b - a) * 100 / hz / s, r }'
}
read -r on_cpu on_rss <<<"$(ui_cost)"
read -r off_cpu off_rss <<<"$(ui_cost --no-record)"
echo "UI recording:     CPU ${on_cpu}%, peak RSS $((on_rss / 1024)) MiB"
echo "UI --no-record:   CPU ${off_cpu}%, peak RSS $((off_rss / 1024)) MiB"
awk -v a="$on_cpu" -v b="$off_cpu" -v r="$on_rss" -v s="$off_rss" \
    'BEGIN { printf "recording costs the UI: %+.3f%% CPU, %+.1f MiB\n", a - b, (r - s) / 1024 }'

# 3. the file.
rows="$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select count(*) from stats').fetchone()[0])" "$db")"
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('pragma wal_checkpoint(truncate)')" "$db"
bytes="$(stat -c %s "$db")"
python3 - "$rows" "$bytes" "$N" <<'EOF'
import sys
rows, size, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
per_row = size / max(rows, 1)
# At the default retention a container keeps 3600 samples, 8640 ten-second averages
# and 43200 one-minute averages.
kept = 3600 + 8640 + 43200
per_container = kept * per_row
print(f"file: {rows} stats rows in {size} bytes ({per_row:.0f} bytes a row, schema and other tables included)")
print(f"at the default retention: {per_container / 2**20:.2f} MiB a container "
      f"({kept} rows), {n} containers: {n * per_container / 2**20:.0f} MiB of the 256 MiB budget")
print(f"bytes per container-day (after the first day, one-minute rows only): {1440 * per_row / 1024:.0f} KiB")
EOF

# 4. reading it back.
start=$(date +%s%N)
XDG_STATE_HOME="$TMP/none" "$BIN" history --db "$db" --since 24h --format json >/dev/null
end=$(date +%s%N)
echo "history --since 24h of that file: $(( (end - start) / 1000000 )) ms"
