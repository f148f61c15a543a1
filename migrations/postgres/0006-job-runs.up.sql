-- The last tick (time / interval) each scheduled job ran in, shared by every replica, so
-- that a job runs once per tick however many replicas schedule it.
CREATE TABLE job_runs (
	name TEXT PRIMARY KEY,
	last_tick BIGINT NOT NULL
);
