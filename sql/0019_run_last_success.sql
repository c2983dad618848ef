-- When each command last exited 0 (ms), for the textfile's
-- sclman_last_success_timestamp_seconds: a chain that fails run after run shows how long ago
-- it last worked. NULL for a command that never succeeded.
ALTER TABLE runs ADD COLUMN last_success_ts INTEGER;
UPDATE runs SET last_success_ts = ts WHERE exit_code = 0;
