#!/usr/bin/env bash
# Generates seed corpora for the fuzz targets into fuzz/corpus/<target>/ (gitignored).
# Needs GNU tar, gzip, python3; zstd is used when present. Re-running replaces the seeds
# it wrote (files named seed-*) and leaves whatever the fuzzer added.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
corpus="$here/corpus"
schemas="${OCI_SCHEMAS:-$here/../../shared/schemas/oci-image-spec}"
pkgdb="${OS_PKGDB:-$here/../../shared/fixtures/os-pkgdb}"
formats="$here/../crates/bulwark-catalog/tests/data/formats"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for t in layer_tar manifest reference docker_save www_authenticate registry_headers dpkg_status apk_installed rpm_db java_archive go_rust_binary lang_manifests; do
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

# ---- registry_headers: Link (pagination) and Retry-After values -----------------------
i=0
while IFS= read -r line; do
    printf '%s' "$line" > "$corpus/registry_headers/seed-$i"
    i=$((i + 1))
done <<'HDRS'
</v2/app/tags/list?last=b&n=2>; rel="next"
</v2/_catalog?n=1&last=a>; rel=next
<https://r/prev>; rel="prev", <https://r/x?a=1,2;b>;title="a, \"b\"";rel="next last"
<x>;rel="
120
Sun, 06 Nov 1994 08:49:37 GMT
HDRS

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

# ---- dpkg_status, apk_installed: real databases from the shared fixtures -------------
# seed-<n>-<file name>: the fixtures reuse file names (status, installed) in many folders.
copy_numbered() { # target, files...
    local t="$1" n=0 f
    shift
    for f in "$@"; do
        [ -f "$f" ] && [ -s "$f" ] || continue
        cp "$f" "$corpus/$t/seed-$n-$(basename "$f")"
        chmod u+w "$corpus/$t/seed-$n-$(basename "$f")"
        n=$((n + 1))
    done
}
if [ -d "$pkgdb" ]; then
    mapfile -t dpkg < <(find "$pkgdb" -type f \( -path '*/dpkg/status' -o -path '*/opkg/status' \
        -o -path '*/status.d/*' -o -path '*/dpkg/info/*' \) | sort)
    copy_numbered dpkg_status "${dpkg[@]}"
    mapfile -t apk < <(find "$pkgdb" -type f -path '*/apk/db/installed' | sort)
    copy_numbered apk_installed "${apk[@]}"
    mapfile -t rpm < <(find "$pkgdb" -type f \( -name Packages -o -name Packages.db -o -name rpmdb.sqlite \) -size +1k | sort)
    copy_numbered rpm_db "${rpm[@]}"
else
    echo "note: $pkgdb not found; dpkg, apk and rpm seeds are the built-in ones only" >&2
fi
printf 'Package: a\nStatus: install ok installed\nVersion: 1:2.0-1\nSource: src (1.9)\nArchitecture: amd64\nConffiles:\n /etc/a.conf 0123456789abcdef0123456789abcdef\n /etc/b obsolete\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 1\n' \
    > "$corpus/dpkg_status/seed-builtin-status"
printf '/.\n/usr\n/usr/bin/a\n' > "$corpus/dpkg_status/seed-builtin.list"
printf '0123456789abcdef0123456789abcdef  usr/bin/a\n0123456789abcdef0123456789abcdef /abs\n' \
    > "$corpus/dpkg_status/seed-builtin.md5sums"
printf 'C:Q1x=\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nL:MIT\nF:lib\nR:ld-musl-x86_64.so.1\nF:/usr/lib/\nR:x\n\nP:b\nV:1\n' \
    > "$corpus/apk_installed/seed-builtin"

# ---- rpm_db: the real Berkeley DB above, plus SQLite and NDB databases and raw headers
# built here from synthetic headers (rpm's sqlite schema; rpmpkg.c's NDB layout).
python3 - "$corpus/rpm_db" <<'PY'
import sqlite3, struct, sys, zlib, os
out = sys.argv[1]
def header(entries):
    index, data = b"", b""
    for tag, ty, count, payload in entries:
        if ty == 4:
            data += b"\0" * (-len(data) % 4)
        index += struct.pack(">IIII", tag, ty, len(data), count)
        data += payload
    return struct.pack(">II", len(entries), len(data)) + index + data
def s(v): return v.encode() + b"\0"
def pkg(i, name="pkg"):
    return header([(1000, 6, 1, s(f"{name}{i}")), (1001, 6, 1, s("1.0")), (1002, 6, 1, s(f"{i}.el9")),
        (1003, 4, 1, struct.pack(">I", i % 3)), (1022, 6, 1, s("x86_64")), (1014, 6, 1, s("MIT")),
        (1044, 6, 1, s(f"{name}{i}-1.0-{i}.el9.src.rpm")),
        (1116, 4, 2, struct.pack(">II", 0, 1)), (1117, 8, 2, b"a\0b\0"), (1118, 8, 2, b"/usr/bin/\0/etc/\0")])
blobs = [pkg(i) for i in range(5)] + [header([(1000, 6, 1, s("gpg-pubkey")), (1001, 6, 1, s("1"))]),
    header([(1000, 6, 1, s("old")), (1001, 6, 1, s("2")), (1027, 8, 2, b"/a\0/b\0")])]
for i, b in enumerate(blobs):
    open(f"{out}/seed-header-{i}", "wb").write(b)
def sqlite_db(name, blobs, wal):
    path = f"{out}/{name}"
    if os.path.exists(path): os.remove(path)
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
    c.execute("CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL)")
    c.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    c.commit(); c.close()
    db = bytearray(open(path, "rb").read())
    if wal: db[18] = db[19] = 2
    open(path, "wb").write(db)
sqlite_db("seed-rpmdb.sqlite", blobs, True)
sqlite_db("seed-rpmdb-rollback.sqlite", blobs[:2], False)
def adler(b): return zlib.adler32(b) & 0xffffffff
def ndb(blobs):
    slot_pages = -(-(32 + len(blobs) * 16) // 4096)
    o = bytearray(slot_pages * 4096)
    o[0:16] = b"RpmP" + struct.pack("<III", 0, 1, slot_pages)
    o[16:20] = struct.pack("<I", len(blobs) + 1)
    for at in range(32, len(o), 16): o[at:at + 4] = b"Slot"
    for i, b in enumerate(blobs):
        idx, blkoff = i + 1, len(o) // 16
        blkcnt = -(-(16 + len(b) + 12) // 16)
        r = b"BlbS" + struct.pack("<III", idx, 0, len(b)) + b
        r += b"\0" * (blkcnt * 16 - 12 - len(r))
        r += struct.pack("<II", adler(r), len(b)) + b"BlbE"
        o += r
        o[32 + i * 16 + 4:32 + i * 16 + 16] = struct.pack("<III", idx, blkoff, blkcnt)
    return bytes(o)
open(f"{out}/seed-Packages.db", "wb").write(ndb(blobs))
PY

# ---- java_archive: small real jars, and built ones (nested, manifest only, stored) -----
for f in javax.inject plexus-component-annotations wagon-file maven-builder-support-3.x aopalliance \
    javax.annotation-api plexus-cipher jcl-over-slf4j; do
    [ -f "/usr/share/maven/lib/$f.jar" ] && cp -L "/usr/share/maven/lib/$f.jar" "$corpus/java_archive/seed-$f.jar"
done
python3 - "$corpus/java_archive" <<'PY'
import io, sys, zipfile
out = sys.argv[1]
def jar(entries, stored=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()
pom = b"groupId=org.example\nartifactId=inner\nversion=1.2.3\n"
inner = jar([("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nImplementation-Version: 2.0\r\n"),
             ("META-INF/maven/org.example/inner/pom.properties", pom)])
mid = jar([("META-INF/MANIFEST.MF", b"Bundle-SymbolicName: mid;singleton:=true\nBundle-Version: 3.1\n"),
           ("WEB-INF/lib/inner-2.0.jar", inner)], stored=True)
open(f"{out}/seed-nested.jar", "wb").write(jar([("BOOT-INF/lib/mid.jar", mid), ("BOOT-INF/lib/inner.jar", inner),
    ("META-INF/maven/a/b/pom.properties", b"groupId=${g}\nartifactId=b\nversion=1\n")]))
open(f"{out}/seed-manifest-only.jar", "wb").write(jar([("META-INF/MANIFEST.MF",
    b"Implementation-Title: t\r\nImplementation-Vendor-Id: org.x\r\nImplementation-Ver\r\n sion: 9.9\r\n\r\nName: x\r\n")]))
open(f"{out}/seed-bomb.jar", "wb").write(jar([("META-INF/maven/a/b/pom.properties", b"#" * (1 << 20))]))
PY

# ---- go_rust_binary: a small ELF, a Go binary (whole, and cut down to its build info
# section), a cargo-auditable section added to a copy of the small ELF ------------------
small_elf=/usr/bin/true
go_bin=/usr/bin/docker-registry
if [ -f "$small_elf" ]; then
    cp "$small_elf" "$corpus/go_rust_binary/seed-true"
    printf '%s' '{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},{"name":"serde","version":"1.0.0","source":"crates.io"},{"name":"cc","version":"1.0.0","kind":"build"}]}' \
        > "$work/dep.json"
    cp "$work/dep.json" "$corpus/go_rust_binary/seed-auditable.json"
    python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(open(sys.argv[1], "rb").read(), 9))' \
        "$work/dep.json" > "$work/dep.z"
    if command -v objcopy > /dev/null; then
        objcopy --add-section .dep-v0="$work/dep.z" "$small_elf" "$corpus/go_rust_binary/seed-auditable-elf"
    fi
fi
if [ -f "$go_bin" ]; then
    cp "$go_bin" "$corpus/go_rust_binary/seed-docker-registry"
    if command -v objcopy > /dev/null; then
        objcopy --only-section=.go.buildinfo "$go_bin" "$corpus/go_rust_binary/seed-go-buildinfo-only" 2> /dev/null
    fi
fi
python3 - "$corpus/go_rust_binary" <<'PY'
import sys
out = sys.argv[1]
def uvarint(n):
    b = bytearray()
    while True:
        if n < 0x80: b.append(n); return bytes(b)
        b.append(n & 0x7f | 0x80); n >>= 7
mod = (b"path\tgithub.com/x/cmd\nmod\tgithub.com/x\t(devel)\t\ndep\tgolang.org/x/net\tv0.1.0\th1:abc=\n"
       b"=>\tgolang.org/x/net\tv0.2.0\th1:def=\ndep\tgithub.com/y\tv1.0.0\t\n=>\t../y\t\t\n"
       b"build\t-compiler=gc\nbuild\t\"-ldflags=x y\"=\"-s \\\"w\\\"\"\nbuild\tvcs.revision=abc\n")
mod = bytes(range(16)) + mod + bytes(range(16, 32))  # the two sentinels around the text
v = b"go1.21.5 X:boringcrypto"
blob = b"\xff Go buildinf:" + bytes([8, 2]) + b"\0" * 16 + uvarint(len(v)) + v + uvarint(len(mod)) + mod
open(f"{out}/seed-raw-buildinfo", "wb").write(b"\0" * 32 + blob)
open(f"{out}/seed-modinfo.txt", "wb").write(b"go\t1.22rc1\n" + mod[16:-16])
PY

# ---- lang_manifests: first byte picks the parser (see fuzz_targets/lang_manifests.rs) --
with_selector() { # selector byte (octal), file, name
    { printf "\\$1"; cat "$2"; } > "$corpus/lang_manifests/seed-$3"
}
py_site="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null || true)"
n=0
for f in "$py_site"/*.dist-info/METADATA /usr/lib/python3/dist-packages/*.dist-info/METADATA; do
    [ -f "$f" ] || continue
    with_selector 000 "$f" "python-$n-$(basename "$(dirname "$f")")"
    n=$((n + 1))
    [ $n -ge 40 ] && break
done
n=0
for f in /usr/lib/node_modules/npm/package.json /usr/lib/node_modules/npm/node_modules/*/package.json \
    /usr/share/nodejs/*/package.json; do
    [ -f "$f" ] || continue
    with_selector 001 "$f" "npm-$n-$(basename "$(dirname "$f")")"
    n=$((n + 1))
    [ $n -ge 40 ] && break
done
[ -f /usr/lib/node_modules/npm/package-lock.json ] && with_selector 002 /usr/lib/node_modules/npm/package-lock.json npm-lock
[ -f /usr/lib/node_modules/npm/npm-shrinkwrap.json ] && with_selector 002 /usr/lib/node_modules/npm/npm-shrinkwrap.json npm-shrinkwrap
if [ -d "$formats" ]; then
    with_selector 003 "$formats/yarn-v1/yarn.lock" yarn-v1
    with_selector 003 "$formats/yarn-berry/yarn.lock" yarn-berry
    for v in 5 6 9; do
        with_selector 004 "$formats/pnpm-v$v/pnpm-lock.yaml" "pnpm-v$v"
        with_selector 204 "$formats/pnpm-v$v/pnpm-lock.yaml" "pnpm-v$v-dev"
    done
    with_selector 006 "$formats/bundler/Gemfile.lock" gemfile-lock
    with_selector 005 "$formats/bundler/Gemfile" gemfile
    with_selector 007 "$formats/composer-v1/installed.json" composer-v1
    with_selector 007 "$formats/composer-v2/installed.json" composer-v2
    with_selector 010 "$formats/composer-lock/composer.lock" composer-lock
    with_selector 210 "$formats/composer-lock/composer.lock" composer-lock-dev
    with_selector 011 "$formats/dotnet/OrderService.deps.json" dotnet
else
    echo "note: $formats not found" >&2
fi
with_selector 012 "$here/../Cargo.lock" cargo-lock
[ -f "$here/Cargo.lock" ] && with_selector 012 "$here/Cargo.lock" cargo-lock-fuzz
for g in /usr/lib/ruby/gems/*/specifications/*.gemspec /var/lib/gems/*/specifications/*.gemspec; do
    [ -f "$g" ] || continue
    with_selector 005 "$g" "gemspec-$(basename "$g")"
done 2> /dev/null
cat > "$work/gemspec" <<'RUBY'
# -*- encoding: utf-8 -*-
Gem::Specification.new do |s|
  s.name = "rake".freeze
  s.version = "13.0.6"
  s.licenses = ["MIT".freeze, %q{Ruby}]
  if s.respond_to? :add_runtime_dependency then
    s.add_runtime_dependency(%q<power_assert>.freeze, [">= 0"])
  else
    s.add_dependency(%q<dev_only>.freeze, [">= 0"])
  end
end
RUBY
with_selector 005 "$work/gemspec" gemspec-builtin
printf '{"lockfileVersion":1,"dependencies":{"a":{"version":"npm:@s/real@1.0.0","requires":{"b":"1"},"dependencies":{"b":{"version":"1.0.0","dev":true}}}}}' \
    > "$work/lock1.json"
with_selector 002 "$work/lock1.json" npm-lock-v1

# ---- osv_record: real records of each shape (JSON, YAML, distro, CSAF-derived) ----------
advisories="${ADVISORIES:-$here/../../shared/advisories}"
mkdir -p "$corpus/osv_record"
rm -f "$corpus/osv_record"/seed-*
for f in go-vulndb/data/osv/GO-2023-1571.json pypa-advisory-db/vulns/py/PYSEC-2022-42969.yaml \
    debian-elts-osv/advisories/ELA-1619-1.json index-samples/ghsa-osv/*.json index-samples/ubuntu-osv/*.json; do
    for g in "$advisories"/$f; do
        [ -f "$g" ] && cp "$g" "$corpus/osv_record/seed-$(basename "$g")"
    done
done

for t in layer_tar manifest reference docker_save www_authenticate registry_headers dpkg_status apk_installed rpm_db java_archive go_rust_binary lang_manifests osv_record; do
    echo "$t: $(ls "$corpus/$t" | wc -l) files"
done
