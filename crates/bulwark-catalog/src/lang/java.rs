//! (cataloger being written)
