-- The cloud a cluster was created on, so that every later command acts on that cloud whatever
-- OS_CLOUD, the OS_* variables or [OPENSTACK] say then. Its clouds.yaml name (when it had one)
-- is part of the provider column ('openstack:NAME'); cloud_auth_url and cloud_project say what
-- it resolved to: the Keystone URL (with /v3) and the project (id:ID, DOMAIN/NAME, or the
-- application credential). '' for providers without clouds and for clusters made before this
-- migration (those keep resolving the cloud as they did).
-- A cluster whose create-cluster run failed part way is 'failed' (what the run made is removed,
-- or kept with --keep-failed). SQLite cannot change a CHECK in place: the table is made again
-- (migrations run with foreign keys off, as that needs; migrate() checks them afterwards).
CREATE TABLE clusters_0007 (
  id             INTEGER PRIMARY KEY,
  name           TEXT    NOT NULL,
  provider       TEXT    NOT NULL,
  bootstrapper   TEXT    NOT NULL,
  balancer       TEXT    NOT NULL,
  metrics        TEXT    NOT NULL,
  flavor         TEXT    NOT NULL DEFAULT '',
  image          TEXT    NOT NULL DEFAULT '',
  network        TEXT    NOT NULL DEFAULT '',
  policy         TEXT    NOT NULL,
  desired        INTEGER NOT NULL,
  lb_port        INTEGER,
  status         TEXT    NOT NULL DEFAULT 'active'
                 CHECK (status IN ('creating', 'active', 'deleting', 'deleted', 'failed')),
  failures       INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  deleted_at     INTEGER,
  cloud_auth_url TEXT    NOT NULL DEFAULT '',
  cloud_project  TEXT    NOT NULL DEFAULT ''
);
INSERT INTO clusters_0007 (id, name, provider, bootstrapper, balancer, metrics, flavor, image,
                           network, policy, desired, lb_port, status, failures, created_at,
                           deleted_at)
SELECT id, name, provider, bootstrapper, balancer, metrics, flavor, image, network, policy,
       desired, lb_port, status, failures, created_at, deleted_at FROM clusters;
DROP TABLE clusters;
ALTER TABLE clusters_0007 RENAME TO clusters;
CREATE UNIQUE INDEX clusters_live_name ON clusters (name) WHERE status != 'deleted';

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
