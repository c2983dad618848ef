-- Webhook receivers of `sclman serve` (POST /v1/receivers/NAME): each is bound to a cluster (or
-- to the alert label that names one) and to one action, and has a token of its own, kept as
-- SHA-256 like the API's. Names follow the rules of cluster names; every column is checked
-- when read back.
CREATE TABLE receivers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,           -- alertmanager (webhook payload version 4) or json
  cluster TEXT NOT NULL,        -- the cluster it acts on, '' when cluster_label names it
  cluster_label TEXT NOT NULL,  -- alertmanager: the alert label whose value is the cluster
  action TEXT NOT NULL,         -- scale_out, scale_in, set_desired or hold
  amount INTEGER NOT NULL,      -- instances (scale_out, scale_in), the size (set_desired), seconds (hold)
  rate_per_minute INTEGER NOT NULL,  -- deliveries taken in any 60 s; more are refused (429)
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER
);

-- Deliveries a receiver took, by their key: an alert's fingerprint, start time and status, or
-- the request's Idempotency-Key. A delivery whose key is here already does nothing again.
-- A delivery without a key gets a unique one ('#' and its id), so that the rate limit counts it.
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY,
  receiver_id INTEGER NOT NULL REFERENCES receivers(id),
  key TEXT NOT NULL,
  ts INTEGER NOT NULL,
  outcome TEXT NOT NULL,        -- what it did, for people
  UNIQUE (receiver_id, key)
);
CREATE INDEX deliveries_recent ON deliveries(receiver_id, ts);

-- Holds on a cluster's policy: while one is active (ended_at NULL, until_ts in the future),
-- decide does not scale in ('scale_in') or does nothing at all ('all'). A firing alert that
-- scaled a cluster out holds its scale-in until the alert resolves (key: its fingerprint); a
-- receiver with action hold holds everything for its amount of seconds.
CREATE TABLE holds (
  id INTEGER PRIMARY KEY,
  cluster_id INTEGER NOT NULL REFERENCES clusters(id),
  source TEXT NOT NULL,         -- webhook:NAME
  scope TEXT NOT NULL,          -- scale_in or all
  key TEXT NOT NULL,            -- the alert's fingerprint, '' for none
  created_at INTEGER NOT NULL,
  until_ts INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX holds_active ON holds(cluster_id, ended_at);
