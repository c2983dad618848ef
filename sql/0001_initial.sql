-- The first schema of the sclman state file. Times are milliseconds since the Unix epoch.

-- A cluster: one load balancer in front of N web instances.
CREATE TABLE clusters (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL,
  provider      TEXT    NOT NULL,
  bootstrapper  TEXT    NOT NULL,
  balancer      TEXT    NOT NULL,
  metrics       TEXT    NOT NULL,
  flavor        TEXT    NOT NULL DEFAULT '',
  image         TEXT    NOT NULL DEFAULT '',
  network       TEXT    NOT NULL DEFAULT '',
  policy        TEXT    NOT NULL,                -- JSON, see policy::to_json
  desired       INTEGER NOT NULL,                -- web instances the cluster converges to
  lb_port       INTEGER,
  status        TEXT    NOT NULL DEFAULT 'active'
                CHECK (status IN ('creating', 'active', 'deleting', 'deleted')),
  failures      INTEGER NOT NULL DEFAULT 0,      -- failed actions in a row
  created_at    INTEGER NOT NULL,
  deleted_at    INTEGER
);
CREATE UNIQUE INDEX clusters_live_name ON clusters (name) WHERE status != 'deleted';

-- An LB or web instance and where it is in its life:
-- requested -> building -> active -> bootstrapping -> in_service -> draining -> deleting -> gone,
-- and error from anywhere.
CREATE TABLE instances (
  id                INTEGER PRIMARY KEY,
  cluster_id        INTEGER NOT NULL REFERENCES clusters (id),
  role              TEXT    NOT NULL CHECK (role IN ('lb', 'web')),
  serial            INTEGER NOT NULL,
  name              TEXT    NOT NULL,
  cloud_id          TEXT    NOT NULL DEFAULT '',
  address           TEXT    NOT NULL DEFAULT '',
  state             TEXT    NOT NULL CHECK (state IN ('requested', 'building', 'active',
                      'bootstrapping', 'in_service', 'draining', 'deleting', 'gone', 'error')),
  error             TEXT    NOT NULL DEFAULT '',
  created_at        INTEGER NOT NULL,
  state_since       INTEGER NOT NULL,
  in_service_since  INTEGER,
  UNIQUE (cluster_id, role, serial)
);
CREATE INDEX instances_cluster_state ON instances (cluster_id, state);

-- One poll of one web instance. value is NULL when the sample is missing.
CREATE TABLE load_samples (
  instance_id  INTEGER NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
  cluster_id   INTEGER NOT NULL,
  ts           INTEGER NOT NULL,
  value        REAL,
  raw          INTEGER,                          -- the raw counter the value came from
  PRIMARY KEY (instance_id, ts)
) WITHOUT ROWID;
CREATE INDEX load_samples_cluster_ts ON load_samples (cluster_id, ts);
CREATE INDEX load_samples_ts ON load_samples (ts);

-- Every decision with its inputs and reason; scale-out and scale-in carry out pending ones.
CREATE TABLE decisions (
  id          INTEGER PRIMARY KEY,
  cluster_id  INTEGER NOT NULL REFERENCES clusters (id),
  ts          INTEGER NOT NULL,
  action      TEXT    NOT NULL CHECK (action IN ('hold', 'scale_out', 'scale_in')),
  from_size   INTEGER NOT NULL,
  to_size     INTEGER NOT NULL,
  reason      TEXT    NOT NULL,
  inputs      TEXT    NOT NULL,                  -- JSON object
  status      TEXT    NOT NULL
              CHECK (status IN ('noop', 'pending', 'done', 'expired', 'superseded')),
  done_at     INTEGER
);
CREATE INDEX decisions_cluster_ts ON decisions (cluster_id, ts);
CREATE INDEX decisions_pending ON decisions (status) WHERE status = 'pending';

-- The intent journal: a row before every external side effect, completed after it.
CREATE TABLE journal (
  id           INTEGER PRIMARY KEY,
  ts           INTEGER NOT NULL,
  cluster      TEXT    NOT NULL,
  instance     TEXT    NOT NULL DEFAULT '',
  op           TEXT    NOT NULL,
  detail       TEXT    NOT NULL DEFAULT '',
  status       TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'failed', 'interrupted')),
  finished_at  INTEGER,
  outcome      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX journal_pending ON journal (cluster, status) WHERE status = 'pending';

-- Cluster locks: a run acts on a cluster only while it holds that cluster's row.
CREATE TABLE locks (
  name         TEXT    PRIMARY KEY,
  pid          INTEGER NOT NULL,
  host         TEXT    NOT NULL,
  acquired_at  INTEGER NOT NULL
);
