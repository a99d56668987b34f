-- The server's users, API tokens, audit log, stored policies (with versions), the
-- exception workflow and registry credentials. Owned by bulwark-server (its modules here:
-- src/auth.rs, src/audit.rs, src/policies.rs). Times are milliseconds since the Unix epoch.

CREATE TABLE users (
    id ${ID},
    name TEXT NOT NULL UNIQUE,
    -- `admin`, `security`, `ci` or `viewer`.
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A token is shown once; only the SHA-256 of its secret is kept. Tokens carry 256 random
-- bits, so a fast hash is enough: there is nothing to brute-force as with passwords.
CREATE TABLE api_tokens (
    id ${ID},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);

-- Append-only: the store's code only inserts and reads; nothing updates or deletes rows.
CREATE TABLE audit_log (
    id ${ID},
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    source TEXT NOT NULL,
    status BIGINT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, id);

CREATE TABLE policy_versions (
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    digest TEXT NOT NULL,
    yaml TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    comment TEXT,
    PRIMARY KEY (name, version)
);

-- Requested, then approved or denied by another user with the security (or admin) role.
CREATE TABLE policy_exceptions (
    id ${ID},
    finding TEXT NOT NULL,
    scope_image TEXT,
    scope_package TEXT,
    scope_path TEXT,
    reason TEXT NOT NULL,
    -- The last day it applies, YYYY-MM-DD.
    expires TEXT NOT NULL,
    -- `pending`, `approved` or `denied` (expiry is computed from `expires`).
    state TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    comment TEXT
);
CREATE INDEX policy_exceptions_state ON policy_exceptions (state, id);

-- Registry credentials scans name by `credential`. The secret is never returned by the API.
CREATE TABLE registry_credentials (
    name TEXT NOT NULL PRIMARY KEY,
    registry TEXT NOT NULL,
    username TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per `POST /scans`: the API's scan id, the job it runs as (several requests for the
-- same image and options attach to one job), the policy it is judged by and, once the job
-- has a result, the verdict (JSON), evaluated once and then kept.
CREATE TABLE scan_requests (
    id ${ID},
    job_id BIGINT NOT NULL,
    reference TEXT NOT NULL,
    platform TEXT,
    -- Comma-separated scanner names.
    scanners TEXT NOT NULL,
    priority TEXT NOT NULL,
    policy TEXT,
    policy_version BIGINT,
    policy_yaml TEXT,
    credential TEXT,
    requested_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    verdict TEXT,
    evaluated_at BIGINT
);
CREATE INDEX scan_requests_job ON scan_requests (job_id);
