-- The image and flavor each instance was created with (the cluster's when it was requested;
-- a cluster's image could not change before this version, so older rows take the cluster's).
-- The victim policy oldest-image drains the instances not on the cluster's current image first.
ALTER TABLE instances ADD COLUMN image TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN flavor TEXT NOT NULL DEFAULT '';
UPDATE instances SET
  image = COALESCE((SELECT image FROM clusters WHERE clusters.id = instances.cluster_id), ''),
  flavor = COALESCE((SELECT flavor FROM clusters WHERE clusters.id = instances.cluster_id), '');

-- A draining instance's connections with a request in flight, as its stub_status said at
-- connections_at (ms); NULL when not measured (not draining, or its status page did not answer).
-- Read back only as a decimal integer from 0 to 2147483647.
ALTER TABLE instances ADD COLUMN connections TEXT;
ALTER TABLE instances ADD COLUMN connections_at INTEGER;

-- Each scale-in victim, the victim policy that chose it and why, for `sclman why`.
CREATE TABLE scale_in_victims (
  id INTEGER PRIMARY KEY,
  cluster_id INTEGER NOT NULL REFERENCES clusters(id),
  ts INTEGER NOT NULL,
  instance TEXT NOT NULL,
  victim_policy TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX scale_in_victims_cluster_ts ON scale_in_victims(cluster_id, ts);
