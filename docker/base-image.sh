#!/usr/bin/env bash
# Print the tag of the base image for docker/Dockerfile, making one if needed.
#
#   1. the official image ($OFFICIAL, default valkey/valkey:8) if it is already here;
#   2. the local base ($LOCAL_TAG) if an earlier run made it (the cache: a second `make docker` takes
#      seconds);
#   3. the official image if `docker pull` gets it;
#   4. otherwise a local base made from Debian's packages: `debootstrap --variant=minbase bookworm`,
#      valkey-server and valkey-tools from bookworm-backports, the official image's `valkey` user
#      (uid/gid 999) and /data layout, then `docker import`.
#
# Progress goes to stderr; stdout is only the tag. `REBUILD=1` makes a new local base even if one exists.
set -euo pipefail

OFFICIAL=${OFFICIAL:-valkey/valkey:8}
LOCAL_TAG=${LOCAL_TAG:-tair-modules-base:bookworm-valkey8}
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

log() { echo "base-image: $*" >&2; }
have() { docker image inspect "$1" >/dev/null 2>&1; }

if [ "${REBUILD:-0}" != 1 ]; then
  if have "$OFFICIAL"; then log "using $OFFICIAL"; echo "$OFFICIAL"; exit 0; fi
  if have "$LOCAL_TAG"; then log "using the cached local base $LOCAL_TAG"; echo "$LOCAL_TAG"; exit 0; fi
  if timeout 120 docker pull -q "$OFFICIAL" >/dev/null 2>&1; then log "pulled $OFFICIAL"; echo "$OFFICIAL"; exit 0; fi
  log "$OFFICIAL is not here and cannot be pulled: making $LOCAL_TAG from Debian's packages"
fi

# The Debian mirror apt uses on this machine (first non-security URI), so the root comes from the same place.
mirror=$(
  { grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'
    grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'; } |
  grep -v -- '-security' | grep -m1 '/debian/*$' || true)
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}

if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  $SUDO apt-get update -q >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2
fi

root=$(mktemp -d /var/tmp/tair-base.XXXXXX)
cleanup() {
  $SUDO umount "$root/proc" 2>/dev/null || true
  $SUDO rm -rf --one-file-system "$root"
}
trap cleanup EXIT

start=$SECONDS
log "debootstrap --variant=minbase bookworm from $mirror"
$SUDO debootstrap --variant=minbase bookworm "$root" "$mirror" >&2
log "root made in $((SECONDS - start)) s"

start=$SECONDS
in_root() { $SUDO chroot "$root" "$@"; }
echo "deb $mirror bookworm-backports main" | $SUDO tee "$root/etc/apt/sources.list.d/bookworm-backports.list" >/dev/null
$SUDO cp /etc/resolv.conf "$root/etc/resolv.conf"
# No service may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$root/usr/sbin/policy-rc.d" >/dev/null
$SUDO chmod 755 "$root/usr/sbin/policy-rc.d"
$SUDO mount -t proc proc "$root/proc"
# The official image's user first, so the package's postinst reuses it (uid/gid 999, as in valkey/valkey).
in_root groupadd -r -g 999 valkey
in_root useradd -r -g valkey -u 999 -d /data -M -s /usr/sbin/nologin valkey
in_root apt-get update -q >&2
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  -t bookworm-backports valkey-server valkey-tools >&2
in_root apt-get clean
$SUDO umount "$root/proc"
# The official layout: /data owned by valkey, the working directory and volume.
$SUDO mkdir -p "$root/data"
$SUDO chown 999:999 "$root/data"
$SUDO chmod 755 "$root/data"
$SUDO rm -rf "$root/usr/sbin/policy-rc.d" "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
  "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
  "$root"/usr/share/info/* "$root"/usr/share/locale/*
$SUDO truncate -s 0 "$root/etc/resolv.conf"
log "valkey installed in $((SECONDS - start)) s: $(in_root valkey-server --version)"

start=$SECONDS
$SUDO tar -C "$root" --numeric-owner -c . | docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'WORKDIR /data' \
  --change 'VOLUME /data' \
  --change 'EXPOSE 6379' \
  --change 'CMD ["valkey-server"]' \
  --message "debootstrap minbase bookworm + valkey-server/valkey-tools from bookworm-backports" \
  - "$LOCAL_TAG" >/dev/null
log "imported as $LOCAL_TAG in $((SECONDS - start)) s"
echo "$LOCAL_TAG"
