#!/usr/bin/env bash
# Ensure the local test image used by portolan's tests exists.
#
# Usage: scripts/test-image.sh
#
# The image (default portolan-test/busybox:latest, override with
# PORTOLAN_TEST_IMAGE) is a tiny root filesystem built from Debian's
# busybox-static and imported with `docker import`: no registry is needed.
# If no image busybox:latest exists, the test image is also tagged
# busybox:latest (portolan's demo feature uses that as its default image).
#
# Set PORTOLAN_TEST_IMAGE_REBUILD=1 to rebuild even if the image exists.
#
# Progress goes to stderr; the only thing printed on stdout is the image id.
set -euo pipefail

IMAGE="${PORTOLAN_TEST_IMAGE:-portolan-test/busybox:latest}"
TITLE_LABEL="org.opencontainers.image.title=portolan-test-busybox"
BUSYBOX_BIN=/bin/busybox

log() { printf 'test-image: %s\n' "$*" >&2; }
die() { printf 'test-image: error: %s\n' "$*" >&2; exit 1; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

command -v docker >/dev/null 2>&1 || die "docker CLI not found (install docker.io, or run .ci/run)"
if ! err="$(timeout 30 docker info 2>&1 >/dev/null)"; then
    die "the Docker daemon does not answer 'docker info' (start dockerd, or run .ci/run): $(printf '%s\n' "$err" | grep -v '^$' | tail -n1)"
fi

ensure_busybox() {
    if [[ -x "$BUSYBOX_BIN" ]] && file_is_static "$BUSYBOX_BIN"; then
        return 0
    fi
    if [[ "$(id -u)" -ne 0 ]]; then
        die "$BUSYBOX_BIN (a static busybox) is missing; install it as root: apt-get install -y busybox-static"
    fi
    log "installing busybox-static with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y busybox-static >&2; then
        log "apt-get install failed; running apt-get update and retrying"
        apt-get update >&2
        apt-get install -y busybox-static >&2
    fi
    [[ -x "$BUSYBOX_BIN" ]] || die "$BUSYBOX_BIN still missing after installing busybox-static"
    file_is_static "$BUSYBOX_BIN" || die "$BUSYBOX_BIN is not statically linked (is the non-static 'busybox' package installed instead of 'busybox-static'?)"
}

# A static ELF has no PT_INTERP program header.
file_is_static() {
    local info
    if command -v readelf >/dev/null 2>&1; then
        info="$(readelf -lW "$1" 2>/dev/null)" || return 1
        [[ "$info" != *INTERP* ]]
    elif command -v file >/dev/null 2>&1; then
        info="$(file -L "$1")"
        [[ "$info" == *"statically linked"* ]]
    else
        # Cannot inspect the binary: trust dpkg about which package owns it.
        info="$(dpkg -S "$1" 2>/dev/null)" || return 1
        [[ "$info" == busybox-static:* ]]
    fi
}

build_image() {
    ensure_busybox

    local tmp rootfs
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/portolan-test-image.XXXXXX")"
    # shellcheck disable=SC2064 # expand $tmp now, on purpose
    trap "rm -rf '$tmp'" EXIT
    rootfs="$tmp/rootfs"

    log "building root filesystem in $rootfs"
    mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,root,home/app,var/www,proc,sys,dev,run}
    mkdir -p "$rootfs/tmp" "$rootfs/var/tmp"
    chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
    chmod 0700 "$rootfs/root"
    chmod 0755 "$rootfs/home/app"

    cp "$BUSYBOX_BIN" "$rootfs/bin/busybox"
    chmod 0755 "$rootfs/bin/busybox"

    # Same layout as `busybox --install -s`: one symlink per applet at its
    # canonical place (bin, sbin, usr/bin, usr/sbin), plus a /bin entry for
    # every applet so that even a PATH of just /bin finds all of them.
    local applet name
    while IFS= read -r applet; do
        [[ "$applet" == */* ]] || continue          # e.g. "linuxrc"
        name="${applet##*/}"
        [[ "$name" == busybox ]] && continue
        [[ -e "$rootfs/$applet" || -L "$rootfs/$applet" ]] || ln -s /bin/busybox "$rootfs/$applet"
        [[ -e "$rootfs/bin/$name" || -L "$rootfs/bin/$name" ]] || ln -s /bin/busybox "$rootfs/bin/$name"
    done < <("$BUSYBOX_BIN" --list-full)
    [[ -L "$rootfs/bin/sh" ]] || die "busybox did not list the 'sh' applet"

    cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
app:x:1000:
nogroup:x:65534:
EOF
    cat >"$rootfs/etc/shadow" <<'EOF'
root:*:19000:0:99999:7:::
app:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
    chmod 0640 "$rootfs/etc/shadow"
    printf 'portolan-test\n' >"$rootfs/etc/hostname"
    printf '<!doctype html><title>portolan-test</title><p>portolan test page</p>\n' \
        >"$rootfs/var/www/index.html"
    chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group" "$rootfs/etc/hostname" "$rootfs/var/www/index.html"

    # Everything owned by root, except the app user's home. Ownership is set by
    # tar, so this also works when the script is not run as root.
    local tarball="$tmp/rootfs.tar"
    tar -C "$rootfs" --numeric-owner --owner=0 --group=0 --exclude=./home/app \
        -cf "$tarball" .
    tar -C "$rootfs" --numeric-owner --owner=1000 --group=1000 --no-recursion \
        -rf "$tarball" ./home/app

    log "importing $IMAGE ($(du -h "$tarball" | cut -f1) tarball)"
    docker import \
        --change 'CMD ["sh"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "LABEL $TITLE_LABEL" \
        --message "portolan test image (busybox-static $(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown))" \
        "$tarball" "$IMAGE" >/dev/null

    rm -rf "$tmp"
    trap - EXIT
}

if [[ "${PORTOLAN_TEST_IMAGE_REBUILD:-0}" == 1 ]] || ! image_exists "$IMAGE"; then
    log "image $IMAGE not found (or rebuild requested); building it"
    build_image
else
    log "image $IMAGE already exists"
fi

# Tag busybox:latest only if there is none: never replace a real busybox.
if [[ "$IMAGE" != "busybox:latest" && "$IMAGE" != "busybox" ]] && ! image_exists busybox:latest; then
    log "no busybox:latest image; tagging $IMAGE as busybox:latest"
    docker tag "$IMAGE" busybox:latest
fi

log "verifying $IMAGE"
if ! out="$(docker run --rm "$IMAGE" sh -c 'echo ok; id; httpd --help >/dev/null 2>&1 || true; nc --help >/dev/null 2>&1 || true' 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "running a container from $IMAGE failed (set PORTOLAN_TEST_IMAGE_REBUILD=1 to rebuild it)"
fi
if [[ "$(printf '%s\n' "$out" | head -n1)" != ok ]]; then
    printf '%s\n' "$out" >&2
    die "unexpected output from a container of $IMAGE (set PORTOLAN_TEST_IMAGE_REBUILD=1 to rebuild it)"
fi
log "ok: $(printf '%s\n' "$out" | sed -n 2p)"

id="$(docker image inspect --format '{{.Id}}' "$IMAGE")"
size="$(docker image inspect --format '{{.Size}}' "$IMAGE")"
log "image $IMAGE is $id ($((size / 1024)) KiB)"
printf '%s\n' "$id"
