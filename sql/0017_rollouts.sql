-- Rolling replacement (`sclman replace`): one row per rollout of a cluster's web instances to
-- an image and flavor (the same ones for a refresh). At most one runs per cluster. The web
-- instances it replaces are those whose serial was at most last_old_serial when it started.
-- The chain carries it on, one batch at a time: a batch adds `surge` web instances above the
-- desired size (those that fit under man_max_instances), drains first the old ones that do not
-- fit (never leaving fewer than min_in_service in service), and ends once its new instances
-- are in service; then the excess drains, old instances first. The next batch starts pause_s
-- seconds later.
-- Times are ms since the epoch. Every column is checked when read back.
CREATE TABLE rollouts (
  id INTEGER PRIMARY KEY,
  cluster_id INTEGER NOT NULL REFERENCES clusters(id),
  status TEXT NOT NULL,           -- running, done, failed, cancelled
  from_image TEXT NOT NULL,
  from_flavor TEXT NOT NULL,
  to_image TEXT NOT NULL,
  to_flavor TEXT NOT NULL,
  batch INTEGER NOT NULL,         -- instances replaced per batch, 1 or more
  min_in_service INTEGER NOT NULL,
  pause_s INTEGER NOT NULL,
  last_old_serial INTEGER NOT NULL,
  total INTEGER NOT NULL,         -- web instances to replace when it started
  batches INTEGER NOT NULL DEFAULT 0,  -- batches started
  surge INTEGER NOT NULL DEFAULT 0,    -- the running batch's instances above the desired size
  started_at INTEGER NOT NULL,
  batch_started_at INTEGER,       -- NULL between batches
  batch_ended_at INTEGER,         -- the last batch's end, NULL before the first
  ended_at INTEGER,
  error TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX rollouts_one_running ON rollouts(cluster_id) WHERE status = 'running';
