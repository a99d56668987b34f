#!/usr/bin/env bash
# Generates seed corpora for the fuzz targets into fuzz/corpus/<target>/ (gitignored).
# Needs GNU tar, gzip, python3; zstd is used when present. Re-running replaces the seeds
# it wrote (files named seed-*) and leaves whatever the fuzzer added.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
corpus="$here/corpus"
schemas="${OCI_SCHEMAS:-$here/../../shared/schemas/oci-image-spec}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for t in layer_tar manifest reference docker_save www_authenticate; do
    mkdir -p "$corpus/$t"
    rm -f "$corpus/$t"/seed-*
done

# ---- layer_tar: small root filesystems as plain, gzip and zstd tars ------------------
root="$work/root"
mkdir -p "$root/etc" "$root/usr/lib" "$root/var/lib/dpkg/status.d" "$root/bin" "$root/opq"
printf 'ID=alpine\nVERSION_ID=3.20.0\n' > "$root/usr/lib/os-release"
ln -s ../usr/lib/os-release "$root/etc/os-release"
ln -s /usr/lib "$root/lib"
ln -s ../../../../etc/passwd "$root/bin/escape"
ln -s loop2 "$root/loop1" && ln -s loop1 "$root/loop2"
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
ln "$root/etc/passwd" "$root/etc/passwd-hardlink"
printf 'Package: base\nVersion: 1\n' > "$root/var/lib/dpkg/status.d/base"
echo notes > "$root/notes.txt"
chmod 4755 "$root/bin" 2>/dev/null || true
touch "$root/.wh.deleted" "$root/opq/.wh..wh..opq" "$root/etc/.wh..wh.plnk"
long="$root/$(printf 'd%.0s' {1..60})/$(printf 'n%.0s' {1..70})"
mkdir -p "$(dirname "$long")" && echo long > "$long"
truncate -s 128K "$root/sparse" && echo tail >> "$root/sparse"

tar -C "$root" --format=gnu --sparse -cf "$corpus/layer_tar/seed-gnu.tar" .
tar -C "$root" --format=pax -cf "$corpus/layer_tar/seed-pax.tar" .
tar -C "$root" --format=ustar -cf "$corpus/layer_tar/seed-ustar.tar" etc usr var notes.txt
tar -C "$root" --format=gnu -czf "$corpus/layer_tar/seed-gnu.tar.gz" etc usr lib notes.txt .wh.deleted opq
tar -C "$root" --format=gnu -cf - etc/os-release usr | gzip -1 > "$work/a.gz"
tar -C "$root" --format=gnu -cf - notes.txt | gzip -1 > "$work/b.gz"
cat "$work/a.gz" "$work/b.gz" > "$corpus/layer_tar/seed-multimember.tar.gz"
if command -v zstd > /dev/null; then
    tar -C "$root" --format=pax -cf - etc usr var | zstd -q -3 -o "$corpus/layer_tar/seed-pax.tar.zst"
fi
# Hostile paths that `tar` refuses to write: built with Python's tarfile.
python3 - "$corpus/layer_tar" <<'PY'
import io, sys, tarfile
out = sys.argv[1]
def build(name, members, fmt=tarfile.GNU_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for path, kind, extra in members:
            ti = tarfile.TarInfo(path)
            ti.type = kind
            data = b""
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                ti.linkname = extra
            elif kind == tarfile.REGTYPE:
                data = extra
                ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data else None)
    open(f"{out}/seed-{name}.tar", "wb").write(buf.getvalue())
build("traversal", [
    ("../../etc/passwd", tarfile.REGTYPE, b"x"),
    ("/abs/./file", tarfile.REGTYPE, b"y"),
    ("a/b/../../../c", tarfile.SYMTYPE, "/etc/passwd"),
    ("hl", tarfile.LNKTYPE, "../../abs/file"),
    ("self", tarfile.LNKTYPE, "self"),
    ("dir/.wh.", tarfile.REGTYPE, b""),
    ("dir/.wh..wh..opq", tarfile.REGTYPE, b""),
    ("etc/os-release", tarfile.REGTYPE, b"ID=debian\n"),
    ("etc/os-release", tarfile.DIRTYPE, None),
    ("fifo", tarfile.FIFOTYPE, None),
])
build("pax-long", [("p" * 300 + "/etc/os-release", tarfile.REGTYPE, b"ID=x\n"),
                   ("l", tarfile.SYMTYPE, "t" * 400)], fmt=tarfile.PAX_FORMAT)
PY

# ---- docker_save: `docker save` layouts (legacy and Docker 25+ OCI) ------------------
python3 - "$corpus/docker_save" "$root" <<'PY'
import hashlib, io, json, os, sys, tarfile, gzip
out, root = sys.argv[1], sys.argv[2]
def layer_tar(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for path, data in files:
            ti = tarfile.TarInfo(path)
            if data is None:
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            elif isinstance(data, str):
                ti.type = tarfile.SYMTYPE; ti.linkname = data
                t.addfile(ti)
            else:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()
def sha(b): return hashlib.sha256(b).hexdigest()
def add(t, name, data=None, link=None):
    ti = tarfile.TarInfo(name)
    if link is not None:
        ti.type = tarfile.SYMTYPE; ti.linkname = link; t.addfile(ti)
    else:
        ti.size = len(data); t.addfile(ti, io.BytesIO(data))
l1 = layer_tar([("etc", None), ("etc/os-release", b"ID=alpine\nVERSION_ID=3.20\n"), ("bin", None), ("bin/sh", b"\x7fELF")])
l2 = layer_tar([("etc/.wh.os-release", b""), ("usr/lib/os-release", b"ID=debian\n"), ("etc/os-release", "../usr/lib/os-release")])
def config(diffs):
    return json.dumps({"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(d) for d in diffs]},
        "history": [{"created_by": "ADD a"}, {"created_by": "ENV x", "empty_layer": True}, {"created_by": "ADD b"}]}).encode()
# Legacy (Docker < 25): <id>/layer.tar, <config-hex>.json, a repeated layer as a symlink.
c = config([l1, l2, l1])
with tarfile.open(f"{out}/seed-legacy.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, f"{sha(c)}.json", c)
    add(t, "aaa/layer.tar", l1)
    add(t, "bbb/layer.tar", l2)
    add(t, "ccc/layer.tar", link="../aaa/layer.tar")
    add(t, "repositories", json.dumps({"x": {"1": "aaa"}}).encode())
    add(t, "manifest.json", json.dumps([{"Config": f"{sha(c)}.json", "RepoTags": ["x:1"],
        "Layers": ["aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"]}]).encode())
# Docker 25+: an OCI layout inside, blobs/sha256/<hex>, gzip layer, index.json.
g2 = gzip.compress(l2, mtime=0)
c = config([l1, l2])
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + sha(c), "size": len(c)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + sha(l1), "size": len(l1)},
               {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + sha(g2), "size": len(g2)}]}).encode()
ix = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + sha(m), "size": len(m),
                   "annotations": {"io.containerd.image.name": "docker.io/library/x:1"}}]}).encode()
with tarfile.open(f"{out}/seed-oci.tar", "w", format=tarfile.PAX_FORMAT) as t:
    add(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    for b in (c, l1, g2, m):
        add(t, f"blobs/sha256/{sha(b)}", b)
    add(t, "index.json", ix)
    add(t, "manifest.json", json.dumps([{"Config": f"blobs/sha256/{sha(c)}", "RepoTags": ["x:1", "y:2"],
        "Layers": [f"blobs/sha256/{sha(l1)}", f"blobs/sha256/{sha(g2)}"]}]).encode())
PY

# ---- manifest: the OCI spec's own examples and schema test cases (read in place) -----
if [ -d "$schemas" ]; then
    for f in "$schemas"/testcases-v1.1.1/*/*.json "$schemas"/spec-examples-v1.1.1/*.json; do
        cp "$f" "$corpus/manifest/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
    done
else
    echo "note: $schemas not found; manifest seeds are the built-in ones only" >&2
fi
d=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
cat > "$corpus/manifest/seed-docker-v2s2.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1469,"digest":"$d"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":3623807,"digest":"$d"}]}
JSON
cat > "$corpus/manifest/seed-docker-list.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"digest":"$d","platform":{"architecture":"arm","os":"linux","variant":"v7"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"$d","platform":{"architecture":"unknown","os":"unknown"},"annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]}
JSON
echo '{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[{"blobSum":"'$d'"}]}' > "$corpus/manifest/seed-schema1.json"
echo '{"architecture":"amd64","os":"linux","config":null,"history":null,"rootfs":{"type":"layers","diff_ids":["'$d'"]}}' \
    > "$corpus/manifest/seed-config-nulls.json"

# ---- reference ----------------------------------------------------------------------
i=0
while IFS= read -r line; do
    printf '%s' "$line" > "$corpus/reference/seed-$i"
    i=$((i + 1))
done <<REFS
alpine
alpine:3.20
library/alpine@$d
docker.io/library/alpine:3.20@$d
localhost:5000/app:1.2
registry:127.0.0.1:5001/a/b-c__d.e:v1
[::1]:5000/x
ghcr.io/org/team/app_x-y.z:v1.0-rc.1
oci:/tmp/img:v1
oci:img@$d
oci-archive:a/b.tar
docker-archive:x.tar:app:1
docker-archive:x.tar
dir:/
docker:app:1
docker-daemon:sha256:abc
http://example.com/app
linux/amd64
linux/arm64/v8
linux/armhf
windows/amd64
$d
sha512:$(printf 'ab%.0s' {1..64})
REFS

# ---- www_authenticate ---------------------------------------------------------------
i=0
while IFS= read -r line; do
    printf '%s' "$line" > "$corpus/www_authenticate/seed-$i"
    i=$((i + 1))
done <<'HDRS'
Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"
Basic realm="Registry Realm", Bearer realm="https://x/token",service=reg, Negotiate
BEARER  Realm = "a\"b\\c" , error="insufficient_scope"
Foo abc==, Basic realm=x
Bearer realm="unterminated
{"token":"t1","expires_in":60}
{"access_token":"t2"}
HDRS

for t in layer_tar manifest reference docker_save www_authenticate; do
    echo "$t: $(ls "$corpus/$t" | wc -l) files"
done
