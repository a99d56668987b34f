-- The durable job queue. A job is `queued`, `running` (leased by one worker until
-- `lease_expires`, extended by heartbeats), then `succeeded`, `failed` or `cancelled`.

CREATE TABLE jobs (
    id ${ID},
    -- `scan` for now.
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    -- JSON of the scan options, canonical (sorted keys).
    options TEXT NOT NULL,
    -- SHA-256 of kind, reference and options: a second request while one is queued or
    -- running attaches to it.
    dedup_key TEXT NOT NULL,
    -- Higher runs first (CI ahead of background work).
    priority BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    -- Not claimed before this time (retry backoff).
    run_after BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    -- The current (or, once succeeded, the completing) lease: random, one per claim.
    lease_token TEXT,
    lease_owner TEXT,
    lease_expires BIGINT,
    -- How many later requests attached to this job.
    attached BIGINT NOT NULL DEFAULT 0,
    -- Free-form progress JSON a worker reports with its heartbeats.
    progress TEXT,
    -- `transient`, `permanent`, `lease-expired` or `cancelled`, with the cause in words.
    error_kind TEXT,
    error TEXT,
    scan_id BIGINT,
    submitted_by TEXT
);
CREATE UNIQUE INDEX jobs_active_dedup ON jobs (dedup_key) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_queue ON jobs (priority DESC, run_after, id) WHERE state = 'queued';
CREATE INDEX jobs_leases ON jobs (lease_expires) WHERE state = 'running';
CREATE INDEX jobs_state ON jobs (state, id);

-- One row per claim: who ran it, when, and how it ended.
CREATE TABLE job_attempts (
    job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    worker TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    -- `succeeded`, `transient`, `permanent`, `released`, `lease-expired`, `cancelled`.
    outcome TEXT,
    error TEXT,
    PRIMARY KEY (job_id, attempt)
);
