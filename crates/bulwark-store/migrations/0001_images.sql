-- Images, the names they were seen under, their layers, every scan's full report, and the
-- inventory and findings of each image's latest scan, indexed for the inventory questions
-- ("which images have CVE-X", "where is package P") and the image list's filters.
-- Placeholders: ${ID} is an auto-assigned 64-bit primary key, ${BLOB} a byte string.
-- Times are milliseconds since the Unix epoch, taken from the store's clock.

CREATE TABLE images (
    id ${ID},
    -- The manifest digest (the config digest for sources without a manifest).
    digest TEXT NOT NULL UNIQUE,
    config_digest TEXT,
    platform TEXT,
    -- The distribution, e.g. `debian 12`.
    os TEXT,
    created TEXT,
    first_seen BIGINT NOT NULL,
    last_scanned BIGINT NOT NULL,
    latest_scan BIGINT,
    -- `pass` or `fail` from the latest scan's policy, NULL without a policy.
    verdict TEXT,
    policy TEXT,
    policy_version TEXT,
    -- Worst finding severity of the latest scan: -1 none, 0 unknown, 1 low .. 4 critical.
    worst_severity BIGINT NOT NULL DEFAULT -1,
    -- 1 when a finding of the latest scan is in CISA's KEV catalog.
    kev BIGINT NOT NULL DEFAULT 0,
    packages BIGINT NOT NULL DEFAULT 0,
    vulnerabilities BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX images_verdict ON images (verdict, id);
CREATE INDEX images_severity ON images (worst_severity, id);
CREATE INDEX images_kev ON images (kev, id);

-- Every registry/repository:tag an image was seen under. `tag` is '' for a digest-only
-- reference. A tag points at one image at a time: recording a scan moves it.
CREATE TABLE image_refs (
    image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (registry, repository, tag, image_id)
);
CREATE INDEX image_refs_image ON image_refs (image_id);

CREATE TABLE image_layers (
    image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    digest TEXT,
    diff_id TEXT NOT NULL,
    media_type TEXT,
    size BIGINT NOT NULL,
    -- The history step that made the layer.
    created_by TEXT,
    PRIMARY KEY (image_id, idx)
);
CREATE INDEX image_layers_diff_id ON image_layers (diff_id);

-- Every scan result, with the exact JSON report bytes (zstd), so any output format can be
-- rendered from it byte for byte as the CLI would. One result per job at most.
CREATE TABLE scans (
    id ${ID},
    image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    job_id BIGINT UNIQUE,
    -- `worker` or `upload`.
    origin TEXT NOT NULL,
    reference TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    bulwark_version TEXT NOT NULL,
    db_digest TEXT,
    db_built_at TEXT,
    verdict TEXT,
    policy TEXT,
    policy_version TEXT,
    report_sha256 TEXT NOT NULL,
    report_size BIGINT NOT NULL,
    report ${BLOB} NOT NULL
);
CREATE INDEX scans_image ON scans (image_id, id);

-- Distinct packages by purl, shared by every image that has them.
CREATE TABLE packages (
    id ${ID},
    purl TEXT NOT NULL UNIQUE,
    -- The purl type (`deb`, `pypi`, `maven`, ...).
    ecosystem TEXT NOT NULL,
    -- The name as the ecosystem spells it (Maven `group:artifact`).
    name TEXT NOT NULL,
    version TEXT NOT NULL
);
CREATE INDEX packages_name ON packages (name, ecosystem);

CREATE TABLE image_packages (
    image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    package_id BIGINT NOT NULL REFERENCES packages (id),
    -- The layer that introduced it (0 = base), NULL when unknown.
    layer BIGINT,
    removed_in BIGINT,
    -- The first file it was found in.
    location TEXT NOT NULL,
    PRIMARY KEY (image_id, package_id, location)
);
CREATE INDEX image_packages_package ON image_packages (package_id, image_id);

CREATE TABLE vulnerabilities (
    id ${ID},
    -- The primary id (the CVE when there is one).
    vuln_id TEXT NOT NULL UNIQUE
);

-- Every other id of a vulnerability (GHSA, DSA, ...), so any of them finds it.
CREATE TABLE vulnerability_aliases (
    alias TEXT NOT NULL,
    vulnerability_id BIGINT NOT NULL REFERENCES vulnerabilities (id),
    PRIMARY KEY (alias, vulnerability_id)
);

CREATE TABLE findings (
    image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    vulnerability_id BIGINT NOT NULL REFERENCES vulnerabilities (id),
    package_id BIGINT NOT NULL REFERENCES packages (id),
    layer BIGINT,
    -- `fixed`, `not-fixed` or `wont-fix`.
    fix_state TEXT NOT NULL,
    -- The nearest fixed version.
    fixed_version TEXT,
    severity BIGINT NOT NULL,
    kev BIGINT NOT NULL,
    PRIMARY KEY (image_id, vulnerability_id, package_id)
);
CREATE INDEX findings_vulnerability ON findings (vulnerability_id, image_id, package_id);
