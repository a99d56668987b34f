#!/usr/bin/env python3
"""Builds the hostile image of issue 10, item 5: one gzip layer holding a Debian os-release
and FILES dpkg `status.d` files of STANZAS tiny stanzas each (20 x 50,000 by default, the
case that took ~3.5 GB before the per-layer result budget).

    mkstatusd.py OUT_DIR [FILES [STANZAS [LAYERS]]]

With LAYERS > 1 (the image-wide budget case), the image has LAYERS such layers, each with
its own package names, so each is a distinct blob whose results fit the per-layer budget
while all of them together do not.

Writes an OCI image layout; scan it as `oci:OUT_DIR:1`.
"""

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def add(tar, path, data, mode=0o644, kind=tarfile.REGTYPE):
    info = tarfile.TarInfo(path)
    info.type = kind
    info.mode = mode
    info.mtime = 1_700_000_000
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def blob(root, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(root, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def main():
    out = sys.argv[1]
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    stanzas = int(sys.argv[3]) if len(sys.argv) > 3 else 50_000
    layers = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    descs, diff_ids = [], []
    for l in range(layers):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for d in ["etc", "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/status.d"]:
                add(tar, d, b"", 0o755, tarfile.DIRTYPE)
            add(tar, "etc/os-release", b'ID=debian\nVERSION_ID="12"\n')
            # One layer keeps the historical names (f0p0…); more layers get their own.
            prefix = "" if layers == 1 else f"l{l}"
            for n in range(files):
                body = "".join(
                    f"Package: {prefix}f{n}p{i}\nStatus: install ok installed\nVersion: 1.{i}\n\n"
                    for i in range(stanzas)
                )
                add(tar, f"var/lib/dpkg/status.d/{prefix}f{n}", body.encode())
        tar_bytes = raw.getvalue()
        layer = blob(out, gzip.compress(tar_bytes, 6, mtime=0))
        layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
        descs.append(layer)
        diff_ids.append("sha256:" + hashlib.sha256(tar_bytes).hexdigest())
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "config": {},
    }
    cfg = blob(out, json.dumps(config).encode())
    cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": cfg, "layers": descs}
    m = blob(out, json.dumps(manifest).encode())
    m["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    m["annotations"] = {"org.opencontainers.image.ref.name": "1"}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [m]}, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


if __name__ == "__main__":
    main()
