#!/usr/bin/env bash
# Builds Bulwark's container image locally, without pulling anything: a Debian bookworm
# minbase root filesystem made with debootstrap (scripts/minbase.sh), the release binary at
# /usr/local/bin/bulwark, and the image's own SBOM (CycloneDX and SPDX, written by that
# binary) under /usr/share/doc/bulwark/.
#
#   scripts/build-image.sh [TAG]          # default TAG: bulwark:dev
#
# BULWARK_BIN=path uses a binary built elsewhere (the release workflow passes the musl one);
# otherwise `cargo build --release` runs first. BULWARK_IMAGE_OCI=DIR also writes the image
# as an OCI layout (with `skopeo`), for registries and signing.
#
# The SBOM lists the Debian packages and, from the Cargo.lock copied next to it, every crate
# compiled into the binary. It describes the image it is in, minus the SBOM files themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-bulwark:dev}"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' crates/bulwark/Cargo.toml | head -1)

bin="${BULWARK_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release --locked -p bulwark >&2
  bin="${CARGO_TARGET_DIR:-target}/release/bulwark"
fi
[ -x "$bin" ] || { echo "build-image: $bin is not an executable" >&2; exit 2; }
bin_sha=$(sha256sum "$bin" | cut -d' ' -f1)

base_tag="bulwark-base:bookworm-minbase"
minbase=$(scripts/minbase.sh)
# The base image is the minbase tar imported as is; re-imported only when the tar changes.
base_digest=$(sha256sum "$minbase" | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "dev.bulwark.minbase"}}' "$base_tag" 2>/dev/null)" != "$base_digest" ]; then
  echo "build-image: importing $minbase as $base_tag" >&2
  docker import --change "LABEL dev.bulwark.minbase=$base_digest" "$minbase" "$base_tag" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$bin" "$work/bulwark"
cp Cargo.lock "$work/Cargo.lock"
cp LICENSE "$work/LICENSE"

# The legacy builder: no BuildKit, no network, no pull (the base is local).
build() {
  DOCKER_BUILDKIT=0 docker build --quiet --pull=false -t "$1" -f - "$work" >/dev/null
}

# Stage 1: everything but the SBOM, so the SBOM can be written from the image itself.
cat >"$work/Dockerfile.stage" <<EOF
FROM $base_tag
COPY bulwark /usr/local/bin/bulwark
COPY Cargo.lock LICENSE /usr/share/doc/bulwark/
EOF
stage="bulwark-stage:$$"
build "$stage" <"$work/Dockerfile.stage"
trap 'rm -rf "$work"; docker rmi -f "$stage" >/dev/null 2>&1 || true' EXIT
"$bin" sbom "docker:$stage" --no-db --no-cache -q -f cyclonedx -o "$work/sbom.cdx.json"
"$bin" sbom "docker:$stage" --no-db --no-cache -q -f spdx -o "$work/sbom.spdx.json"

cat >"$work/Dockerfile" <<EOF
FROM $stage
COPY sbom.cdx.json sbom.spdx.json /usr/share/doc/bulwark/
# Scans write their layer cache and database under \$HOME/.cache/bulwark; /work is where a
# pipeline mounts its checkout (and its images as OCI layouts or archives).
ENV HOME=/home/bulwark BULWARK_NO_PROGRESS=true
RUN mkdir -p /home/bulwark /work && chmod 1777 /home/bulwark /work
WORKDIR /work
LABEL org.opencontainers.image.title=bulwark \\
      org.opencontainers.image.description="Container image scanner: vulnerabilities, malware, secrets, misconfigurations" \\
      org.opencontainers.image.version="$version" \\
      org.opencontainers.image.licenses=Apache-2.0 \\
      dev.bulwark.binary-sha256="$bin_sha" \\
      dev.bulwark.sbom="/usr/share/doc/bulwark/sbom.cdx.json /usr/share/doc/bulwark/sbom.spdx.json"
ENTRYPOINT ["/usr/local/bin/bulwark"]
CMD ["--help"]
EOF
build "$tag" <"$work/Dockerfile"

if [ -n "${BULWARK_IMAGE_OCI:-}" ]; then
  rm -rf "$BULWARK_IMAGE_OCI"
  skopeo copy --quiet --insecure-policy "docker-daemon:$tag" "oci:$BULWARK_IMAGE_OCI:${tag##*:}" >&2
fi
echo "$tag"
