//! OCI image layouts (<https://github.com/opencontainers/image-spec/blob/main/image-layout.md>),
//! as directories and as tar archives of one.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bulwark_core::{ArchiveSelector, Digest, Platform};

use super::{BlobStore, ResolvedImage};
use crate::layer::normalize_path;
use crate::spec::{self, Descriptor, Document, Index};
use crate::{Error, Limits, Result};

/// The annotation that names a manifest in an OCI layout (`oci:dir:tag`).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// An OCI layout directory.
#[derive(Debug)]
pub struct LayoutDir {
    root: PathBuf,
}

impl BlobStore for LayoutDir {
    fn open_blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        let path = self.root.join("blobs").join(desc.digest.algorithm().name()).join(desc.digest.hex());
        match File::open(&path) {
            Ok(f) => Ok(Box::new(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(Error::NotFound(format!("blob {} in {}", desc.digest, self.root.display())))
            }
            Err(e) => Err(Error::io(format!("opening {}", path.display()), e)),
        }
    }
}

/// A tar archive of an OCI layout, read in place: the tar is indexed once and each blob
/// is read from its offset, so layers can be read in parallel without unpacking.
#[derive(Debug)]
pub struct LayoutArchive {
    path: PathBuf,
    /// Normalised member path → (data offset, size).
    members: BTreeMap<String, (u64, u64)>,
}

impl LayoutArchive {
    /// Indexes the members of a tar file.
    pub fn index(path: &Path, limits: &Limits) -> Result<LayoutArchive> {
        let file = File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        let mut archive = tar::Archive::new(file);
        let mut members = BTreeMap::new();
        let entries = archive.entries_with_seek().map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        for (n, entry) in entries.enumerate() {
            if n as u64 >= limits.max_entries {
                return Err(Error::invalid(path.display().to_string(), "too many tar members"));
            }
            let entry = entry.map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            if !matches!(entry.header().entry_type(), tar::EntryType::Regular | tar::EntryType::Continuous) {
                continue;
            }
            let (name, _) = normalize_path(&String::from_utf8_lossy(&entry.path_bytes()));
            members.insert(name, (entry.raw_file_position(), entry.size()));
        }
        Ok(LayoutArchive { path: path.to_owned(), members })
    }

    /// Opens a member by its normalised path.
    pub fn open_member(&self, name: &str) -> Result<Box<dyn Read + Send + '_>> {
        let &(offset, size) =
            self.members.get(name).ok_or_else(|| Error::NotFound(format!("{name} in {}", self.path.display())))?;
        let mut f = File::open(&self.path).map_err(|e| Error::io(format!("opening {}", self.path.display()), e))?;
        f.seek(SeekFrom::Start(offset)).map_err(|e| Error::io(format!("seeking in {}", self.path.display()), e))?;
        Ok(Box::new(f.take(size)))
    }

    /// The size of a member, if present.
    pub fn member_size(&self, name: &str) -> Option<u64> {
        self.members.get(name).map(|m| m.1)
    }
}

impl BlobStore for LayoutArchive {
    fn open_blob(&self, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        self.open_member(&format!("blobs/{}/{}", desc.digest.algorithm().name(), desc.digest.hex()))
    }
}

/// Opens `oci:<dir>`.
pub fn open_dir(
    root: &Path,
    selector: &ArchiveSelector,
    reference: &str,
    platform: Option<&Platform>,
    limits: &Limits,
) -> Result<(Arc<dyn BlobStore>, ResolvedImage)> {
    let read_file = |name: &str, limit: u64| -> Result<Vec<u8>> {
        let p = root.join(name);
        let f =
            File::open(&p).map_err(|e| Error::io(format!("opening {} (is this an OCI layout?)", p.display()), e))?;
        let mut buf = Vec::new();
        f.take(limit + 1).read_to_end(&mut buf).map_err(|e| Error::io(format!("reading {}", p.display()), e))?;
        if buf.len() as u64 > limit {
            return Err(Error::TooLarge {
                what: p.display().to_string(),
                size: buf.len() as u64,
                limit,
                kind: crate::LimitKind::ManifestBytes,
            });
        }
        Ok(buf)
    };
    check_layout_marker(&read_file("oci-layout", 4096)?, reference)?;
    let index_json = read_file("index.json", limits.max_manifest_bytes)?;
    let store = Arc::new(LayoutDir { root: root.to_owned() });
    let image = open_layout(store.as_ref(), &index_json, selector, reference, platform, limits)?;
    Ok((store, image))
}

/// Opens `oci-archive:<file>`.
pub fn open_archive(
    path: &Path,
    selector: &ArchiveSelector,
    reference: &str,
    platform: Option<&Platform>,
    limits: &Limits,
) -> Result<(Arc<dyn BlobStore>, ResolvedImage)> {
    let archive = LayoutArchive::index(path, limits)?;
    let read_member = |name: &str, limit: u64| -> Result<Vec<u8>> {
        if archive.member_size(name).is_some_and(|s| s > limit) {
            return Err(Error::TooLarge {
                what: format!("{name} in {}", path.display()),
                size: archive.member_size(name).unwrap_or_default(),
                limit,
                kind: crate::LimitKind::ManifestBytes,
            });
        }
        let mut buf = Vec::new();
        archive.open_member(name)?.read_to_end(&mut buf).map_err(|e| Error::io(format!("reading {name}"), e))?;
        Ok(buf)
    };
    check_layout_marker(&read_member("oci-layout", 4096)?, reference)?;
    let index_json = read_member("index.json", limits.max_manifest_bytes)?;
    let image = open_layout(&archive, &index_json, selector, reference, platform, limits)?;
    Ok((Arc::new(archive), image))
}

fn check_layout_marker(bytes: &[u8], reference: &str) -> Result<()> {
    #[derive(serde::Deserialize)]
    struct Marker {
        #[serde(rename = "imageLayoutVersion")]
        version: String,
    }
    let m: Marker =
        serde_json::from_slice(bytes).map_err(|e| Error::invalid(format!("{reference}: oci-layout"), e.to_string()))?;
    if !m.version.starts_with("1.") {
        return Err(Error::Unsupported(format!("{reference}: OCI layout version {} is not supported", m.version)));
    }
    Ok(())
}

fn open_layout(
    store: &dyn BlobStore,
    index_json: &[u8],
    selector: &ArchiveSelector,
    reference: &str,
    platform: Option<&Platform>,
    limits: &Limits,
) -> Result<ResolvedImage> {
    let index = match spec::parse_document(index_json, Some(spec::OCI_INDEX), &format!("{reference}: index.json"))? {
        Document::Index(i) => i,
        Document::Manifest(_) => unreachable!("parse_document honours the index media type"),
    };
    let name_of = |d: &Descriptor| d.annotations.get(REF_NAME).cloned();
    let chosen: Vec<&Descriptor> = match selector {
        ArchiveSelector::Digest(digest) => index.manifests.iter().filter(|d| &d.digest == digest).collect(),
        ArchiveSelector::Tag(tag) => index
            .manifests
            .iter()
            .filter(|d| {
                name_of(d).is_some_and(|n| n == *tag || n.rsplit_once(':').is_some_and(|(_, t)| t == tag))
                    || d.annotations.get("io.containerd.image.name").is_some_and(|n| n.ends_with(&format!(":{tag}")))
            })
            .collect(),
        ArchiveSelector::Only => index.manifests.iter().collect(),
    };
    let names: std::collections::BTreeSet<String> = chosen.iter().filter_map(|d| name_of(d)).collect();
    match chosen.as_slice() {
        [] => {
            let available: Vec<String> = index.manifests.iter().filter_map(name_of).collect();
            Err(Error::NotFound(format!(
                "{reference}: no such image in the layout (tags: {})",
                if available.is_empty() { "none".into() } else { available.join(", ") }
            )))
        }
        [one] => {
            let what = format!("{reference}: manifest {}", one.digest);
            let bytes = store.read_small_blob(one, limits.max_manifest_bytes, &what)?;
            let media = (!one.media_type.is_empty()).then_some(one.media_type.as_str());
            let doc = spec::parse_document(&bytes, media, &what)?;
            super::resolve(store, reference, doc, Some(one.digest.clone()), platform, limits)
        }
        // Several images under different names: the user must pick one.
        _ if names.len() > 1 => Err(Error::invalid(
            reference,
            format!(
                "the layout holds several images; pick one with :tag ({})",
                names.into_iter().collect::<Vec<_>>().join(", ")
            ),
        )),
        // Several platform manifests listed directly in index.json: select like an index.
        many => {
            let sub = Index {
                schema_version: 2,
                media_type: Some(spec::OCI_INDEX.into()),
                manifests: many.iter().map(|d| (*d).clone()).collect(),
                annotations: BTreeMap::new(),
            };
            super::resolve(store, reference, Document::Index(sub), None::<Digest>, platform, limits)
        }
    }
}
