-- A scan request's display and gate settings (`severity`, `ignore_unfixed`, `fail_on`), as
-- JSON; NULL for none. They change what the request's reports show and how its gate is
-- judged, never the scan itself, so requests with different settings still share a job.
ALTER TABLE scan_requests ADD COLUMN settings TEXT;
-- Finished requests whose verdict is still to be recorded are found through their job.
CREATE INDEX scan_requests_unjudged ON scan_requests (evaluated_at, job_id);
