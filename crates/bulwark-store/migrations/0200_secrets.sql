-- Secrets held by the server (registry credentials, signing keys), encrypted at rest with
-- AES-256-GCM under a key-encryption key (KEK) that is never stored here (src/secrets.rs).
--
-- 0100's `registry_credentials` kept the secret in a plaintext column; no API ever wrote
-- to it, and it is dropped rather than left as a place where plaintext could land.
DROP TABLE registry_credentials;

CREATE TABLE secrets (
    -- What the secret is: `registry-credential`, `signing-key`.
    purpose TEXT NOT NULL,
    name TEXT NOT NULL,
    -- Public facts about the secret (JSON: a credential's registry and user name, a
    -- signing key's public key). Authenticated with the ciphertext, never encrypted.
    metadata TEXT NOT NULL,
    -- Which KEK sealed it (a fingerprint of the KEK, never the KEK): rotation re-encrypts
    -- the rows whose id is not the new KEK's.
    kek_id TEXT NOT NULL,
    nonce ${BLOB} NOT NULL,
    -- Ciphertext with the 16-byte GCM tag; the associated data is purpose, name and
    -- metadata, so a ciphertext copied to another row (or a changed registry) fails to open.
    ciphertext ${BLOB} NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (purpose, name)
);
