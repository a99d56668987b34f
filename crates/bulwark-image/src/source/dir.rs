//! Unpacked root filesystems.
