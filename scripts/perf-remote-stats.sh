#!/usr/bin/env bash
# How soon a remote user sees every running container's CPU, and what it costs the
# engine, next to `docker stats` on the same engine through the same ssh.
#
# Usage: scripts/perf-remote-stats.sh [N_CONTAINERS=100] [SECONDS=30]   (as root)
#
# Starts N idle containers (label portolan.perf-remote=1), an sshd on 127.0.0.1 that
# lets the current user in with a generated key (as tests/endpoints.rs does), then:
#   portolan      `cargo bench --bench remote_stats` over ssh://: time to the first
#                 inventory and to a CPU figure for all N; then the engine's CPU
#                 while it keeps following for SECONDS
#   docker stats  `docker -H ssh://… stats --no-stream` time, then the engine's CPU
#                 while `docker -H ssh://… stats` streams for SECONDS
#   and for both, the CPU of everything sshd runs for them on the host (sessions,
#   `docker system dial-stdio`, portolan's shell and its `head` each interval)
#   baseline      the engine's CPU with nothing watching
# Everything it made is removed on exit. Results on stdout, progress on stderr.
set -euo pipefail

N="${1:-100}"
SECS="${2:-30}"
LABEL=portolan.perf-remote=1
IMAGE="${PORTOLAN_TEST_IMAGE:-portolan-test/busybox:latest}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/perf-lib.sh
source "$ROOT/scripts/perf-lib.sh"

log() { printf 'perf-remote-stats: %s\n' "$*" >&2; }
die() { printf 'perf-remote-stats: error: %s\n' "$*" >&2; exit 1; }
[[ "$N" =~ ^[1-9][0-9]*$ && "$SECS" =~ ^[1-9][0-9]*$ ]] || die "usage: $0 [N_CONTAINERS=100] [SECONDS=30]"
for tool in sshd ssh ssh-keygen docker cargo; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is needed (scripts/setup installs it)"
done

DIR="$(mktemp -d /tmp/perf-remote.XXXXXX)"
SSHD_PID="" STATS_PID="" BENCH_PID=""
cleanup() {
    set +e
    for pid in "$STATS_PID" "$BENCH_PID" "$SSHD_PID"; do
        [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    ids="$(docker ps -aq --filter "label=$LABEL")"
    # In batches: one `docker rm -f` of many ids can leave the engine stuck.
    [[ -z "$ids" ]] || xargs -n 50 -P 2 docker rm -f <<<"$ids" >/dev/null 2>&1
    rm -rf "$DIR"
}
trap cleanup EXIT

now() { printf '%s\n' "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

log "building the bench"
cargo build --release --locked --benches --quiet 2>&1 >&2 || die "build failed"

scripts/test-image.sh >/dev/null
log "starting $N containers"
seq 1 "$N" | xargs -P 4 -I '{}' docker run -d --label "$LABEL" --name "perf-remote-{}" \
    "$IMAGE" sleep 100000 >/dev/null || die "could not start the containers"

# An sshd for this user, with a generated key and a private ssh config on PATH.
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
USER_NAME="$(id -un)"
SOCKET="${DOCKER_HOST:-unix:///var/run/docker.sock}"
ssh-keygen -q -t ed25519 -N '' -f "$DIR/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$DIR/client_key"
cp "$DIR/client_key.pub" "$DIR/authorized_keys"
printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$DIR/host_key.pub")" >"$DIR/known_hosts"
cat >"$DIR/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $DIR/host_key
AuthorizedKeysFile $DIR/authorized_keys
PidFile none
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
PermitRootLogin prohibit-password
MaxSessions 100
SetEnv DOCKER_HOST=$SOCKET
CONF
cat >"$DIR/ssh_config" <<CONF
Host *
  IdentityFile $DIR/client_key
  IdentitiesOnly yes
  UserKnownHostsFile $DIR/known_hosts
  StrictHostKeyChecking yes
CONF
mkdir -p "$DIR/bin" /run/sshd
printf '#!/bin/sh\nexec %s -F %s/ssh_config "$@"\n' "$(command -v ssh)" "$DIR" >"$DIR/bin/ssh"
chmod 755 "$DIR/bin/ssh"
"$(command -v sshd)" -D -e -f "$DIR/sshd_config" 2>"$DIR/sshd.log" &
SSHD_PID=$!
export PATH="$DIR/bin:$PATH"
HOST="ssh://$USER_NAME@127.0.0.1:$PORT"
for _ in $(seq 1 50); do
    ssh -p "$PORT" "$USER_NAME@127.0.0.1" true 2>/dev/null && break
    sleep 0.2
done
ssh -p "$PORT" "$USER_NAME@127.0.0.1" true || die "sshd does not let us in (see $DIR/sshd.log)"
log "sshd on port $PORT; settling 5 s"
sleep 5

# baseline
s0="$(engine_snapshot)"; t0="$(now)"; sleep "$SECS"; s1="$(engine_snapshot)"
BASE="$(engine_percent "$s0" "$s1" "$(since "$t0")")"
log "baseline engine CPU $BASE%"

# portolan
BENCH="$(find "${CARGO_TARGET_DIR:-target}/release/deps" -maxdepth 1 -type f -executable -name 'remote_stats-*' -printf '%T@ %p\n' | sort -n | tail -n1 | cut -d' ' -f2)"
[[ -x "$BENCH" ]] || die "the remote_stats bench binary was not built"
PORTOLAN_BENCH_HOST="$HOST" PORTOLAN_BENCH_LABEL="$LABEL" PORTOLAN_BENCH_HOLD=$((SECS + 5)) \
    "$BENCH" --bench >"$DIR/bench.out" 2>"$DIR/bench.err" &
BENCH_PID=$!
for _ in $(seq 1 600); do
    grep -q following "$DIR/bench.err" 2>/dev/null && break
    kill -0 "$BENCH_PID" 2>/dev/null || { cat "$DIR/bench.err" >&2; die "the bench stopped"; }
    sleep 0.2
done
s0="$(engine_snapshot)"; h0="$(tree_snapshot "$SSHD_PID")"; t0="$(now)"; sleep "$SECS"
s1="$(engine_snapshot)"; h1="$(tree_snapshot "$SSHD_PID")"; el="$(since "$t0")"
PORTOLAN="$(engine_percent "$s0" "$s1" "$el")"
PORTOLAN_SSH="$(engine_percent "$h0" "$h1" "$el")"
wait "$BENCH_PID" || die "the bench failed: $(cat "$DIR/bench.err")"
BENCH_PID=""
RESULT="$(grep '^remote_stats:' "$DIR/bench.out")"

# docker stats
t0="$(now)"
docker -H "$HOST" stats --no-stream >/dev/null || die "docker stats over ssh failed"
NO_STREAM="$(since "$t0")"
docker -H "$HOST" stats >/dev/null 2>&1 &
STATS_PID=$!
sleep 5
s0="$(engine_snapshot)"; h0="$(tree_snapshot "$SSHD_PID")"; t0="$(now)"; sleep "$SECS"
s1="$(engine_snapshot)"; h1="$(tree_snapshot "$SSHD_PID")"; el="$(since "$t0")"
DOCKER="$(engine_percent "$s0" "$s1" "$el")"
DOCKER_SSH="$(engine_percent "$h0" "$h1" "$el")"
kill "$STATS_PID" 2>/dev/null; wait "$STATS_PID" 2>/dev/null || true
STATS_PID=""

printf '\nremote stats over ssh: %s containers on docker %s, %s CPUs, %s s per phase\n' \
    "$N" "$(docker version --format '{{.Server.Version}}')" "$(nproc)" "$SECS"
printf '%s\n' "$RESULT"
printf 'docker stats --no-stream over the same ssh: %s s\n' "$NO_STREAM"
printf 'engine CPU (%% of one core): baseline %s, portolan following %s (%+.2f), docker stats %s (%+.2f)\n' \
    "$BASE" "$PORTOLAN" "$(awk -v a="$PORTOLAN" -v b="$BASE" 'BEGIN { print a - b }')" \
    "$DOCKER" "$(awk -v a="$DOCKER" -v b="$BASE" 'BEGIN { print a - b }')"
printf 'remote host under sshd (sessions, shells, dial-stdio, head): portolan %s, docker stats %s\n' \
    "$PORTOLAN_SSH" "$DOCKER_SSH"
