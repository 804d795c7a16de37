#!/usr/bin/env bash
# Builds a small image that runs `portolan record` (for dist/docker-compose.record.yml)
# from a portolan binary and the shared libraries it links, without a registry:
# the files are put in a root file system and `docker import`ed.
#
# Usage: scripts/record-image.sh [BINARY] [TAG]
#   BINARY  default: target/release/portolan (build it with `cargo build --release`)
#   TAG     default: portolan:local
set -euo pipefail

bin="${1:-target/release/portolan}"
tag="${2:-portolan:local}"
[[ -x "$bin" ]] || { echo "record-image: $bin is not an executable (cargo build --release first)" >&2; exit 1; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/tmp" "$root/state" "$root/etc"
chmod 1777 "$root/tmp"
cp "$bin" "$root/usr/local/bin/portolan"
# The loader and every library the binary links, at the paths it expects.
ldd "$bin" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
printf 'root:x:0:0:root:/root:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\n' > "$root/etc/group"
tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin XDG_STATE_HOME=/state' \
    --change 'ENTRYPOINT ["/usr/local/bin/portolan"]' \
    --change 'CMD ["record"]' \
    - "$tag" >/dev/null
echo "$tag"
