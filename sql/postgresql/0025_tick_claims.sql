-- As sql/0025_tick_claims.sql: which host acts on a cluster in a tick of the cron chain.
CREATE TABLE tick_claims (
  cluster     TEXT COLLATE "C" PRIMARY KEY,
  slot        BIGINT NOT NULL,
  host        TEXT COLLATE "C" NOT NULL,
  claimed_at  BIGINT NOT NULL
);
-- As sql/0025_tick_claims.sql: the hosts whose chain ran lately.
CREATE TABLE tick_hosts (
  host     TEXT COLLATE "C" PRIMARY KEY,
  seen_at  BIGINT NOT NULL
);
