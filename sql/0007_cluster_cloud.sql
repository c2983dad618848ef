-- The cloud a cluster was created on, so that every later command acts on that cloud whatever
-- OS_CLOUD, the OS_* variables or [OPENSTACK] say then. Its clouds.yaml name (when it had one)
-- is part of the provider column ('openstack:NAME'); these columns say what it resolved to:
-- the Keystone URL (with /v3) and the project (id, or domain/name, or the application
-- credential). '' for providers without clouds and for clusters made before this migration
-- (those keep resolving the cloud as they did).
ALTER TABLE clusters ADD COLUMN cloud_auth_url TEXT NOT NULL DEFAULT '';
ALTER TABLE clusters ADD COLUMN cloud_project TEXT NOT NULL DEFAULT '';

-- A size given by hand (--to) whose run failed is stored as a decision 'failed' with its
-- error, and nothing else of it (the desired size stays). SQLite cannot change a CHECK in
-- place: the table is made again (migrations run with foreign keys off; nothing refers to it).
CREATE TABLE decisions_0007 (
  id          INTEGER PRIMARY KEY,
  cluster_id  INTEGER NOT NULL REFERENCES clusters (id),
  ts          INTEGER NOT NULL,
  action      TEXT    NOT NULL CHECK (action IN ('hold', 'scale_out', 'scale_in')),
  from_size   INTEGER NOT NULL,
  to_size     INTEGER NOT NULL,
  reason      TEXT    NOT NULL,
  inputs      TEXT    NOT NULL,
  status      TEXT    NOT NULL
              CHECK (status IN ('noop', 'pending', 'done', 'expired', 'superseded', 'failed')),
  done_at     INTEGER,
  explanation TEXT    NOT NULL DEFAULT '{}',
  error       TEXT    NOT NULL DEFAULT ''
);
INSERT INTO decisions_0007 (id, cluster_id, ts, action, from_size, to_size, reason, inputs,
                            status, done_at, explanation)
SELECT id, cluster_id, ts, action, from_size, to_size, reason, inputs, status, done_at,
       explanation FROM decisions;
DROP TABLE decisions;
ALTER TABLE decisions_0007 RENAME TO decisions;
CREATE INDEX decisions_cluster_ts ON decisions (cluster_id, ts);
CREATE INDEX decisions_pending ON decisions (status) WHERE status = 'pending';
CREATE INDEX decisions_done ON decisions (cluster_id, done_at) WHERE status = 'done';
