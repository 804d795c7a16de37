#!/usr/bin/env bash
# Log ingest throughput: portolan against `docker logs`, same container, same run.
#
# Usage: scripts/perf-logs.sh [LINES=1000000]
#
# A container writes LINES lines as fast as it can and exits. Then, one after the
# other, `docker logs -f NAME > /dev/null` and `portolan snapshot --pane logs
# --since 1970-01-01T00:00:00Z` read its whole log through the engine; the script
# prints lines per second for each and the ratio. Also times opening (tail 300) the
# logs of a container with a big history and of one with a tiny history.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
LINES="${1:-1000000}"
IMAGE="${PORTOLAN_TEST_IMAGE:-portolan-test/busybox:latest}"
LABEL=portolan.perf-logs=1
BIN=target/release/portolan
cleanup() { docker rm -f $(docker ps -aq --filter "label=$LABEL") >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
cargo build --release --quiet
flood=portolan-perf-flood
docker run -d --name "$flood" --label "$LABEL" "$IMAGE" sh -c "yes 'flood line 0123456789 abcdefghij' | head -n $LINES" >/dev/null
docker wait "$flood" >/dev/null
# The json-file driver may keep fewer lines than were written: count what it has.
kept=$(docker logs "$flood" 2>&1 | wc -l)
start=$(date +%s.%N)
docker logs -f "$flood" > /dev/null 2>&1
end=$(date +%s.%N)
docker_rate=$(echo "$kept / ($end - $start)" | bc -l)
printf 'docker logs -f: %d lines in %.3f s = %.0f lines/s\n' "$kept" "$(echo "$end - $start" | bc -l)" "$docker_rate"
stats=$(PORTOLAN_LOG_STATS=1 "$BIN" snapshot --format text --pane logs --container "$flood" \
    --since 1970-01-01T00:00:00Z --height 1 --log-budget 64 2>&1 >/dev/null | grep 'portolan: received')
echo "$stats"
ours=$(echo "$stats" | sed -E 's/.*\(([0-9]+) lines\/s\).*/\1/')
printf 'ratio portolan / docker logs: %.2f\n' "$(echo "$ours / $docker_rate" | bc -l)"

# Opening cost against history size: tail 300 of a big and of a tiny log.
big=portolan-perf-big
tiny=portolan-perf-tiny
docker run -d --name "$big" --label "$LABEL" "$IMAGE" sh -c "yes 'history line with some text to make it about one hundred bytes long 0123456789 abcdef' | head -n ${BIG_LINES:-3000000}; sleep 600" >/dev/null
docker run -d --name "$tiny" --label "$LABEL" "$IMAGE" sh -c "echo hello; sleep 600" >/dev/null
sleep 2
while [ "$(docker inspect --format '{{.State.Running}}' "$big")" = true ] && \
      [ "$(docker top "$big" 2>/dev/null | grep -c yes || true)" != 0 ]; do sleep 1; done
size=$(du -h "$(docker inspect --format '{{.LogPath}}' "$big")" | cut -f1)
for name in "$big" "$tiny"; do
    start=$(date +%s.%N)
    "$BIN" snapshot --format text --pane logs --container "$name" --height 300 >/dev/null
    end=$(date +%s.%N)
    printf 'open last 300 lines of %s: %.3f s\n' "$name" "$(echo "$end - $start" | bc -l)"
done
echo "(history of $big: $size on disk; each open includes 0.4 s of waiting for the stream to go quiet)"

# Responsiveness under a flood: a key answered with a redraw, measured from tmux.
flood2=portolan-perf-flood-live
docker run -d --name "$flood2" --label "$LABEL" "$IMAGE" sh -c "yes 'flooding the terminal with lines 0123456789'" >/dev/null
session=portolan-perf-logs
tmux kill-session -t "$session" 2>/dev/null || true
tmux new-session -d -s "$session" -x 120 -y 40 "$BIN --pane logs --container $flood2"
sleep 3
pid=$(pgrep -n -x portolan)
latencies=()
for _ in $(seq 1 10); do
    start=$(date +%s%N)
    tmux send-keys -t "$session" '?'
    until tmux capture-pane -p -t "$session" | grep -q 'show or hide this help'; do sleep 0.002; done
    end=$(date +%s%N)
    latencies+=($(( (end - start) / 1000000 )))
    tmux send-keys -t "$session" Escape
    while tmux capture-pane -p -t "$session" | grep -q 'show or hide this help'; do sleep 0.002; done
    sleep 0.2
done
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
title=$(tmux capture-pane -p -t "$session" | sed -n 3p | cut -c1-118)
tmux kill-session -t "$session"
sorted=$(printf '%s\n' "${latencies[@]}" | sort -n | tr '\n' ' ')
echo "key to redraw during a flood (ms, 10 tries, sorted; includes tmux polling): $sorted"
echo "portolan RSS during the flood: $((rss / 1024)) MiB (64 MiB log budget)"
echo "title during the flood: $title"
