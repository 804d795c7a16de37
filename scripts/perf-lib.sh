# Shared by the perf scripts: what the Docker engine's processes cost.
# shellcheck shell=bash

# One line per engine process: "<pid>:<starttime> <kind> <utime+stime ticks>".
# pid:starttime identifies a process even if its pid is reused.
engine_snapshot() {
    local d comm kind stat
    local -a f
    for d in /proc/[0-9]*; do
        comm=""
        read -r comm 2>/dev/null <"$d/comm" || continue
        case "$comm" in
            dockerd) kind=dockerd ;;
            containerd) kind=containerd ;;
            containerd-shim*) kind=shim ;; # comm is truncated to 15 chars
            *) continue ;;
        esac
        stat="$(cat "$d/stat" 2>/dev/null)" || continue
        # Fields after "comm)": f[0] is field 3 (state), so utime (14) is
        # f[11], stime (15) f[12], starttime (22) f[19].
        read -r -a f <<<"${stat##*) }"
        printf '%s:%s %s %s\n' "${d#/proc/}" "${f[19]}" "$kind" "$((f[11] + f[12]))"
    done
}

# engine_percent SNAPSHOT_BEFORE SNAPSHOT_AFTER SECONDS: the engine's CPU over that
# time in % of one core, counting processes present at both ends.
engine_percent() {
    awk -v hz="$(getconf CLK_TCK)" -v el="$3" '
        NR == FNR { start[$1] = $3; next }
        ($1 in start) { total += $3 - start[$1] }
        END { printf "%.2f\n", total * 100 / hz / el }' <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

# tree_snapshot ROOT_PID: like engine_snapshot, for ROOT_PID and every process under
# it, each with its reaped children's time too (cutime+cstime), so short-lived
# children (a `head` a second under a shell) are counted once their parent reaps them.
tree_snapshot() {
    local d stat
    local -a f
    for d in /proc/[0-9]*; do
        stat="$(cat "$d/stat" 2>/dev/null)" || continue
        # f[1] is the parent (field 4); utime, stime, cutime, cstime are f[11..14].
        read -r -a f <<<"${stat##*) }"
        printf '%s %s %s %s\n' "${d#/proc/}" "${f[1]}" "${f[19]}" "$((f[11] + f[12] + f[13] + f[14]))"
    done | awk -v root="$1" '
        { parent[$1] = $2; start[$1] = $3; ticks[$1] = $4 }
        END {
            for (pid in parent) {
                p = pid
                while (p != "" && p != root && p != 0 && p != 1) p = parent[p]
                if (p == root) printf "%s:%s tree %s\n", pid, start[pid], ticks[pid]
            }
        }'
}
