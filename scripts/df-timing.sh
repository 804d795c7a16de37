#!/bin/sh
# How long the engine takes to answer /system/df (what the Disk pane and a prune
# preview ask for) with N more images on it (300 by default). Each image is a tiny
# `docker import` of distinct content, so the engine has N images, not N tags of
# one; all are labelled portolan.df-timing=<run> and removed at the end, even on
# interrupt. Talks to the socket in DOCKER_HOST (unix) or /var/run/docker.sock.
#
#   scripts/df-timing.sh [N] [ROUNDS]
set -eu
count=${1:-300}
rounds=${2:-5}
run="df-timing-$$"
label="portolan.df-timing=$run"
socket=${DOCKER_HOST:-unix:///var/run/docker.sock}
socket=${socket#unix://}
work=$(mktemp -d)

cleanup() {
    docker images -q --filter "label=$label" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# One request's wall time in milliseconds.
df_ms() {
    curl -s -o /dev/null -w '%{time_total}\n' --unix-socket "$socket" 'http://docker/system/df' |
        awk '{ printf "%d\n", $1 * 1000 }'
}

median() {
    sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

before=$(for _ in $(seq "$rounds"); do df_ms; done | median)
existing=$(docker images -q | sort -u | wc -l)

echo "importing $count images…" >&2
started=$(date +%s)
i=0
while [ "$i" -lt "$count" ]; do
    dir="$work/$i"
    mkdir -p "$dir"
    echo "$run $i" >"$dir/id"
    tar -cf "$dir.tar" -C "$dir" id
    docker import --change "LABEL $label" "$dir.tar" "portolan-df-timing/$run:$i" >/dev/null
    i=$((i + 1))
done
echo "imported in $(( $(date +%s) - started )) s" >&2

after=$(for _ in $(seq "$rounds"); do df_ms; done | median)
total=$(docker images -q | sort -u | wc -l)
echo "/system/df, median of $rounds: ${before} ms with $existing images; ${after} ms with $total images ($count added)"
