#!/usr/bin/env python3
"""Builds an OCI image layout with gzip layers from root filesystem directories.

    mkoci.py OUT_DIR ROOTFS [ROOTFS ...]

Layer 1 is the whole first rootfs. Each further layer is the difference between that
rootfs and the previous one, the way an overlay snapshotter records a `RUN` step: every
path that is new or whose metadata (type, mode, owner, size, mtime, link target) changed,
the directories leading to them, and a `.wh.<name>` whiteout for every path that is gone.

Like the official Debian images, `dev/`, `proc/`, `sys/` contents, `var/lib/apt/lists/*`
and `var/cache/apt/archives/*.deb` are left out. Layers are compressed with `pigz -6`
(`gzip -6` if pigz is missing); digests and diff_ids are SHA-256 of the bytes written.
"""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile

SKIP_CHILDREN = {"dev", "proc", "sys", "var/lib/apt/lists", "var/cache/apt/archives"}
SKIP_FILES_SUFFIX = (".deb",)


def walk(root):
    """Relative paths under root (sorted, parents before children), minus the skipped ones."""
    out = {}

    def rec(rel):
        full = os.path.join(root, rel) if rel else root
        for name in sorted(os.listdir(full)):
            r = f"{rel}/{name}" if rel else name
            st = os.lstat(os.path.join(root, r))
            parent = rel
            if parent in SKIP_CHILDREN:
                continue
            if parent == "var/cache/apt/archives" and name.endswith(SKIP_FILES_SUFFIX):
                continue
            out[r] = st
            if stat.S_ISDIR(st.st_mode):
                rec(r)

    rec("")
    return out


def meta(root, rel, st):
    link = os.readlink(os.path.join(root, rel)) if stat.S_ISLNK(st.st_mode) else None
    size = st.st_size if stat.S_ISREG(st.st_mode) else 0
    mtime = st.st_mtime_ns if not stat.S_ISDIR(st.st_mode) else None
    return (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, size, mtime, link)


def write_tar(path, root, entries, whiteouts=()):
    """entries: sorted relative paths under root; whiteouts: relative paths deleted."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for rel in entries:
            ti = tar.gettarinfo(os.path.join(root, rel), arcname=rel)
            ti.uname = ti.gname = ""
            if ti.isreg():
                with open(os.path.join(root, rel), "rb") as f:
                    tar.addfile(ti, f)
            else:
                tar.addfile(ti)
        for rel in whiteouts:
            d, name = os.path.split(rel)
            ti = tarfile.TarInfo(os.path.join(d, ".wh." + name))
            ti.mode = 0o644
            tar.addfile(ti)


def diff(lower_root, lower, upper_root, upper):
    changed = set()
    for rel, st in upper.items():
        old = lower.get(rel)
        if old is None or meta(lower_root, rel, old) != meta(upper_root, rel, st):
            changed.add(rel)
    # Parents of changed paths are part of the layer, as in an overlay upper dir.
    for rel in list(changed):
        p = os.path.dirname(rel)
        while p and p not in changed:
            changed.add(p)
            p = os.path.dirname(p)
    gone = [r for r in lower if r not in upper and os.path.dirname(r) in upper]
    # Only the topmost deleted path needs a whiteout.
    gone_set = set(gone)
    whiteouts = sorted(r for r in gone if os.path.dirname(r) not in gone_set)
    for rel in whiteouts:
        p = os.path.dirname(rel)
        while p and p not in changed:
            changed.add(p)
            p = os.path.dirname(p)
    return sorted(changed, key=lambda r: r.split("/")), whiteouts


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def put_blob(out, path_or_bytes):
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    if isinstance(path_or_bytes, bytes):
        digest = hashlib.sha256(path_or_bytes).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(path_or_bytes)
        return digest, len(path_or_bytes)
    digest = sha256_file(path_or_bytes)
    dest = os.path.join(blobs, digest)
    os.replace(path_or_bytes, dest)
    return digest, os.path.getsize(dest)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, roots = sys.argv[1], sys.argv[2:]
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    compressor = ["pigz", "-6", "-n", "-c"] if shutil.which("pigz") else ["gzip", "-6", "-n", "-c"]
    layers, diff_ids, history = [], [], []
    prev = None
    for i, root in enumerate(roots):
        tree = walk(root)
        if prev is None:
            entries, whiteouts = sorted(tree, key=lambda r: r.split("/")), []
        else:
            entries, whiteouts = diff(prev[0], prev[1], root, tree)
        tar_path = os.path.join(tmp, f"layer{i}.tar")
        write_tar(tar_path, root, entries, whiteouts)
        diff_ids.append("sha256:" + sha256_file(tar_path))
        gz_path = tar_path + ".gz"
        with open(gz_path, "wb") as gz:
            subprocess.run(compressor + [tar_path], stdout=gz, check=True)
        os.remove(tar_path)
        digest, size = put_blob(tmp, gz_path)
        layers.append(
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + digest, "size": size}
        )
        history.append({"created_by": f"bench/mkoci.py layer {i}: {os.path.basename(root)} "
                        f"({len(entries)} entries, {len(whiteouts)} whiteouts)"})
        print(f"mkoci: layer {i} from {root}: {len(entries)} entries, {len(whiteouts)} whiteouts, "
              f"{size} bytes gzip", file=sys.stderr)
        prev = (root, tree)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["bash"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    cdigest, csize = put_blob(tmp, json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cdigest, "size": csize},
        "layers": layers,
    }
    mdigest, msize = put_blob(tmp, json.dumps(manifest, sort_keys=True).encode())
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + mdigest,
                "size": msize,
                "annotations": {"org.opencontainers.image.ref.name": "bench"},
            }
        ],
    }
    with open(os.path.join(tmp, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(tmp, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    # Layer blob paths in manifest order, for the baselines.
    with open(os.path.join(tmp, "layers.txt"), "w") as f:
        for layer in layers:
            f.write(os.path.join(os.path.abspath(out), "blobs", "sha256", layer["digest"][7:]) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
