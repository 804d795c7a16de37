#!/usr/bin/env bash
# A private second Docker engine for trying several engines at once (and for
# scripts/screenshots.sh): its own socket, data root and exec root under DIR, in its
# own network namespace, because a second dockerd in the host's namespace takes over
# the first engine's docker0 bridge. Needs root, unshare and ip. The test image is
# copied in from the first engine (no registry is reachable).
#
# Usage: scripts/second-engine.sh start DIR   prints the engine's address (unix://DIR/docker.sock)
#        scripts/second-engine.sh stop DIR    stops it and removes DIR
set -euo pipefail
action=${1:?start or stop}
dir=${2:?a directory for the engine}
image=${PORTOLAN_TEST_IMAGE:-portolan-test/busybox:latest}
case "$action" in
start)
    mkdir -p "$dir/data" "$dir/exec"
    echo '{}' > "$dir/daemon.json"
    setsid unshare -n sh -c "ip link set lo up && exec dockerd --config-file $dir/daemon.json \
        -H unix://$dir/docker.sock --data-root $dir/data --exec-root $dir/exec \
        --pidfile $dir/docker.pid --bridge=none --iptables=false --ip6tables=false \
        --storage-driver=vfs" >"$dir/dockerd.log" 2>&1 < /dev/null &
    for _ in $(seq 1 150); do
        docker -H "unix://$dir/docker.sock" version >/dev/null 2>&1 && break
        sleep 0.2
    done
    docker -H "unix://$dir/docker.sock" version >/dev/null \
        || { tail -20 "$dir/dockerd.log" >&2; exit 1; }
    docker save "$image" | docker -H "unix://$dir/docker.sock" load >/dev/null
    echo "unix://$dir/docker.sock"
    ;;
stop)
    if [ -S "$dir/docker.sock" ]; then
        host="unix://$dir/docker.sock"
        ids=$(docker -H "$host" ps -aq 2>/dev/null || true)
        [ -z "$ids" ] || docker -H "$host" rm -f $ids >/dev/null 2>&1 || true
    fi
    if [ -f "$dir/docker.pid" ]; then
        pid=$(cat "$dir/docker.pid")
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    grep -o " $dir[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
