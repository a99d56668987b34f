//! Secrets in their real formats, for tests that plant them in an image and check what the
//! outputs show.

use std::path::Path;
use std::process::Command;

/// CRC-32 (IEEE), the checksum in GitHub's token format.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Base62 digits, as GitHub's token format writes its checksum.
pub const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62(mut n: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out).unwrap()
}

/// A GitHub personal access token: `ghp_`, the 30 characters `random`, and the base62 CRC-32
/// of them, so the scanner's checksum check accepts it.
pub fn github_token(random: &str) -> String {
    format!("ghp_{random}{}", base62(u64::from(crc32(random.as_bytes())), 6))
}

/// A fresh RSA private key, made by openssl for this test.
pub fn private_key(dir: &Path) -> String {
    let out = dir.join("key.pem");
    let status = Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out"])
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl is installed by scripts/setup-dev.sh");
    assert!(status.success());
    std::fs::read_to_string(out).unwrap()
}
