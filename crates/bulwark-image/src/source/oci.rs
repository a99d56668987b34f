//! OCI image layouts, as directories and as tar archives.
