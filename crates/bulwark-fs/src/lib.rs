//! Replacing a file so that a reader sees the old contents or the new, never a mix, and a
//! crash leaves one of the two: the one atomic-write helper of the workspace.
//!
//! The new contents go to a uniquely named temporary file in the target's own directory
//! (so the rename never crosses a filesystem), created with `O_EXCL` under a random name:
//! two threads or processes writing the same target each get their own temporary file and
//! the last rename wins whole. Before the rename the file is fsynced, and after it the
//! directory, so the new name survives a power loss.
//!
//! This crate touches only the local filesystem: no network, no processes. That is why the
//! detectors may use it for their compiled-rule cache while the pure crates may not (the
//! dependency rules in `crates/bulwark/tests/it/architecture.rs`).
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let target = dir.path().join("state.json");
//! bulwark_fs::write_atomic(&target, b"{}").unwrap();
//! assert_eq!(std::fs::read(&target).unwrap(), b"{}");
//!
//! // Staged: write, check what was written, then replace.
//! let mut staged = bulwark_fs::AtomicFile::create(&target).unwrap();
//! std::io::Write::write_all(&mut staged, b"{\"v\":2}").unwrap();
//! assert_eq!(std::fs::read(staged.path()).unwrap(), b"{\"v\":2}");
//! staged.commit().unwrap();
//! assert_eq!(std::fs::read(&target).unwrap(), b"{\"v\":2}");
//! ```

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What failed, on which path.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {source}", path.display())]
pub struct Error {
    /// `create a temporary file in`, `write`, `fsync`, `replace`, `link`.
    pub action: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::new(e.source.kind(), e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Writes `bytes` to `target` atomically (see the crate docs). The parent directory must
/// exist.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(target)?;
    file.write_all(bytes).map_err(|source| Error { action: "write", path: file.path().to_owned(), source })?;
    file.commit()
}

/// New contents for `target`, being written. Dropped without [`AtomicFile::commit`], the
/// temporary file is removed and `target` is untouched.
#[derive(Debug)]
pub struct AtomicFile {
    temp: tempfile::NamedTempFile,
    target: PathBuf,
}

impl AtomicFile {
    /// A new, empty temporary file beside `target`, with the permissions `fs::write` would
    /// give a new file (0666 less the umask).
    pub fn create(target: &Path) -> Result<AtomicFile> {
        AtomicFile::create_with_mode(target, 0o666)
    }

    /// [`AtomicFile::create`] with the Unix permission bits `mode` (less the umask) from the
    /// moment the file exists, e.g. 0600 for a key.
    pub fn create_with_mode(target: &Path, mode: u32) -> Result<AtomicFile> {
        use std::os::unix::fs::PermissionsExt;
        let dir = parent(target);
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .permissions(std::fs::Permissions::from_mode(mode))
            .tempfile_in(dir)
            .map_err(|source| Error { action: "create a temporary file in", path: dir.to_owned(), source })?;
        Ok(AtomicFile { temp, target: target.to_owned() })
    }

    /// The temporary file's path, e.g. to open it with a library that wants a path (SQLite)
    /// or to check what was written before it replaces anything.
    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// The temporary file.
    pub fn file(&self) -> &File {
        self.temp.as_file()
    }

    /// The temporary file, for writing.
    pub fn file_mut(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Flushes and fsyncs the new contents, renames them over the target, and fsyncs the
    /// directory.
    pub fn commit(self) -> Result<()> {
        let AtomicFile { temp, target } = self;
        sync(temp.as_file(), temp.path())?;
        temp.persist(&target).map_err(|e| Error { action: "replace", path: target.clone(), source: e.error })?;
        sync_dir(parent(&target));
        Ok(())
    }

    /// Like [`AtomicFile::commit`], but never replaces an existing target: when another
    /// writer created it first, returns `Ok(false)` and keeps theirs (first writer wins, e.g.
    /// for a key that must not change under a concurrent reader).
    pub fn commit_new(self) -> Result<bool> {
        let AtomicFile { temp, target } = self;
        sync(temp.as_file(), temp.path())?;
        match temp.persist_noclobber(&target) {
            Ok(_) => {
                sync_dir(parent(&target));
                Ok(true)
            }
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(Error { action: "link", path: target, source: e.error }),
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

fn parent(target: &Path) -> &Path {
    target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn sync(file: &File, path: &Path) -> Result<()> {
    file.sync_all().map_err(|source| Error { action: "fsync", path: path.to_owned(), source })
}

/// Makes a rename durable. Best effort: not every platform can open a directory, and the
/// new contents are in place either way.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_writing_one_target_never_collide_or_mix() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("cache.bin");
        let writers: Vec<_> = (0..8u8)
            .map(|i| {
                let target = target.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        write_atomic(&target, &vec![i; 64 << 10]).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let got = std::fs::read(&target).unwrap();
        assert_eq!(got.len(), 64 << 10);
        assert!(got.iter().all(|&b| b == got[0]), "one writer's contents, whole");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("cache.bin")], "no temporary file left behind");
    }

    #[test]
    fn an_uncommitted_file_leaves_the_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("db.sqlite");
        std::fs::write(&target, b"old").unwrap();
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"new but unchecked").unwrap();
        let temp = f.path().to_owned();
        assert_eq!(temp.parent(), Some(dir.path()));
        drop(f);
        assert!(!temp.exists());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
    }

    #[test]
    fn commit_new_keeps_the_first_writers_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("key");
        let mut a = AtomicFile::create(&target).unwrap();
        a.write_all(b"first").unwrap();
        let mut b = AtomicFile::create(&target).unwrap();
        b.write_all(b"second").unwrap();
        let private = AtomicFile::create_with_mode(&target, 0o600).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&private.file().metadata().unwrap().permissions()) & 0o777,
            0o600
        );
        drop(private);
        assert!(a.commit_new().unwrap());
        assert!(!b.commit_new().unwrap());
        assert_eq!(std::fs::read(&target).unwrap(), b"first");
    }

    #[test]
    fn errors_name_the_path() {
        let e = write_atomic(Path::new("/nonexistent-dir-for-bulwark/x"), b"").unwrap_err();
        assert_eq!(e.action, "create a temporary file in");
        assert!(e.to_string().contains("/nonexistent-dir-for-bulwark"), "{e}");
    }
}
