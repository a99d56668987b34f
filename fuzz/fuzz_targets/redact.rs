//! The redaction step, one property: for any text with a generated secret planted in it
//! (an AWS key id or key pair, a GitHub token, a private key block, a URL password or a
//! random credential-like token, set off by a separator), the redacted text never contains
//! that secret.
#![no_main]

use std::sync::LazyLock;

use bulwark_detect::secret::Redactor;
use libfuzzer_sys::fuzz_target;

static REDACTOR: LazyLock<Redactor> = LazyLock::new(|| Redactor::builtin().unwrap());

/// What may stand right before and after a planted secret: anything but a character the
/// secret's own format could continue with.
const SEPARATORS: &[u8] = b" \n\t\"',;()<>|&";

/// splitmix64: the fuzzer picks the seed, not the characters.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick(&mut self, from: &[u8]) -> char {
        from[(self.next() % from.len() as u64) as usize] as char
    }

    /// `n` characters as a generated credential has them: upper case, lower case and
    /// digits in turn, each class drawn without repeats while it lasts.
    fn token(&mut self, n: usize) -> String {
        let mut classes: Vec<Vec<u8>> =
            [&b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"[..], b"abcdefghijklmnopqrstuvwxyz", b"0123456789"].map(|c| c.to_vec()).into();
        for c in &mut classes {
            for i in (1..c.len()).rev() {
                let j = (self.next() % (i as u64 + 1)) as usize;
                c.swap(i, j);
            }
        }
        (0..n).map(|i| classes[i % 3][(i / 3) % classes[i % 3].len()] as char).collect()
    }
}

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

/// The planted text and the secrets in it that must not survive.
fn generate(kind: u8, rng: &mut Rng) -> (String, Vec<String>) {
    const AWS_ID: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let key_id = |rng: &mut Rng| format!("AKIA{}", (0..16).map(|_| rng.pick(AWS_ID)).collect::<String>());
    match kind % 6 {
        0 => {
            let id = key_id(rng);
            (id.clone(), vec![id])
        }
        1 => {
            let id = key_id(rng);
            // The secret half of a pair, with a `/` inside as base64 has.
            let mut secret = rng.token(39);
            let at = 8 + (rng.next() % 24) as usize;
            secret.insert(at, '/');
            let sep = [":", "=", ":"][(rng.next() % 3) as usize];
            (format!("{id}{sep}{secret}"), vec![secret])
        }
        2 => {
            let random = rng.token(30);
            let sum = bulwark_detect::secret::base62(u64::from(crc32(random.as_bytes())), 6);
            let token = format!("ghp_{random}{sum}");
            (token.clone(), vec![token])
        }
        3 => {
            let lines: Vec<String> = (0..4).map(|_| rng.token(64)).collect();
            let block = format!("-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----", lines.join("\n"));
            (block, lines)
        }
        4 => {
            let password = rng.token(16);
            (format!("https://deploy:{password}@git.example.com/x.git"), vec![password])
        }
        _ => {
            let token = rng.token(36);
            (token.clone(), vec![token])
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 11 {
        return;
    }
    let mut rng = Rng(u64::from_le_bytes(data[1..9].try_into().unwrap()));
    let (planted, secrets) = generate(data[0], &mut rng);
    let before = SEPARATORS[data[9] as usize % SEPARATORS.len()] as char;
    let after = SEPARATORS[data[10] as usize % SEPARATORS.len()] as char;
    let text = String::from_utf8_lossy(&data[11..]);
    let mut at = (rng.next() % (text.len() as u64 + 1)) as usize;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let input = format!("{}{before}{planted}{after}{}", &text[..at], &text[at..]);
    let out = REDACTOR.redact(&input);
    for s in &secrets {
        assert!(!out.contains(s.as_str()), "{s:?} survived in {out:?}");
    }
});
