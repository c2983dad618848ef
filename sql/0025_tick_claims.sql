-- Which host acts on a cluster in a tick of the cron chain (a state shared by several hosts,
-- [STATE] url). A tick is a slot of 60/man_ticks_per_minute seconds of wall time, numbered from
-- the epoch; the first host whose chain step claims a cluster for a slot is the only one that
-- acts on it in that slot: the other hosts' steps skip it (engine::for_each_locked). One row per
-- cluster holds its latest claimed slot; gc deletes the rows of clusters that are gone.
CREATE TABLE tick_claims (
  cluster     TEXT    PRIMARY KEY,
  slot        INTEGER NOT NULL,
  host        TEXT    NOT NULL,
  claimed_at  INTEGER NOT NULL
) WITHOUT ROWID;
-- The hosts whose chain ran lately (a step with --cron notes the time), so that each takes its
-- share of the clusters: a cluster goes first to the live host that ranks highest for it
-- (rendezvous hashing). gc deletes hosts not seen for a day.
CREATE TABLE tick_hosts (
  host     TEXT    PRIMARY KEY,
  seen_at  INTEGER NOT NULL
) WITHOUT ROWID;
