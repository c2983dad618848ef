-- The state file's own identity: a random UUID (version 4) made once, when this migration runs.
-- Each local instance directory records the identity of the state that made it, so that two
-- state files in one directory (sharing instances/) never adopt, or collect as orphans, each
-- other's instances. A copy of the file keeps the identity: a copy is the same state.
CREATE TABLE state_identity (
  only_row  INTEGER PRIMARY KEY CHECK (only_row = 1),
  uuid      TEXT    NOT NULL
);
INSERT INTO state_identity (only_row, uuid)
SELECT 1, lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
          || substr(lower(hex(randomblob(2))), 2) || '-'
          || substr('89ab', 1 + (abs(random()) % 4), 1)
          || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)));
