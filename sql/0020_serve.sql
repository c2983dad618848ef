-- `sclman serve` (lib/serve): API tokens, the audit log, and where a decision came from.
--
-- A token is shown once, when `sclman token create` makes it; only its SHA-256 (hex) is kept.
-- A revoked token stays, so that the audit log's names keep meaning something. Names are
-- checked like cluster names when read back, roles against viewer, operator and admin.
CREATE TABLE tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,          -- viewer, operator or admin
  hash TEXT NOT NULL UNIQUE,   -- SHA-256 of the token, 64 lowercase hex digits
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,          -- NULL while it is valid
  last_used_at INTEGER
);

-- Every request to `sclman serve` that changes something, or was refused for its token: who
-- (the token's name, '' for none), what (method and path, without the query) and how it ended
-- (the HTTP status and, for an error, its message).
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  token TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  status INTEGER NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_ts ON audit(ts);

-- Who asked for a decision: 'policy' (decide), 'manual' (scale-out or scale-in --to), or
-- 'api:TOKEN' (sclman serve, the token's name). decide leaves a pending decision that is not
-- the policy's to scale-out and scale-in.
ALTER TABLE decisions ADD COLUMN source TEXT NOT NULL DEFAULT 'policy';
UPDATE decisions SET source = 'manual' WHERE reason = 'manual';
