-- Promotions through the server (`POST /promotions`): what was asked, the job that runs it
-- (kind `promote`: scan SRC, evaluate the policy, and on a pass copy, sign, attest and tag
-- DST with a signing key the server holds), and the outcome the worker recorded.
CREATE TABLE promotions (
    id ${ID},
    job_id BIGINT NOT NULL,
    source TEXT NOT NULL,
    destination TEXT NOT NULL,
    policy TEXT NOT NULL,
    policy_version BIGINT NOT NULL,
    signing_key TEXT NOT NULL,
    allow_retag BIGINT NOT NULL,
    source_credential TEXT,
    destination_credential TEXT,
    requested_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX promotions_job ON promotions (job_id);

-- The worker's outcome per job (several requests may share one job): `promoted` or
-- `denied` (the policy failed; DST untouched), the digest, and the details (JSON).
CREATE TABLE promotion_outcomes (
    job_id BIGINT NOT NULL PRIMARY KEY,
    outcome TEXT NOT NULL,
    digest TEXT,
    detail TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
