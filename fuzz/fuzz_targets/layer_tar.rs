//! `analyze_layer` over arbitrary bytes: compression sniffed, no expected digests, small
//! limits. Must never panic, hang or blow up memory; the index must satisfy the
//! invariants in `common::check_index`, and squashing it must give sane answers.

#![no_main]

use std::sync::Arc;

use bulwark_image::layer::{self, Expected};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let expected = Expected { name: "fuzz".into(), ..Expected::default() };
    let mut read = 0u64;
    let result = layer::analyze_layer(data, &expected, &common::options(), &common::limits(), &mut |n| read += n);
    assert!(read <= data.len() as u64, "progress reported {read} bytes of {}", data.len());
    let Ok(index) = result else { return };
    assert_eq!(index.compressed_size, data.len() as u64);
    assert!(index.uncompressed_size <= common::limits().max_layer_bytes);
    common::check_index(&index);
    // The same layer twice exercises whiteouts/opaque dirs hiding a lower layer and
    // paths replaced across layers.
    let index = Arc::new(index);
    common::check_view(std::slice::from_ref(&index));
    common::check_view(&[index.clone(), index]);
});
