-- As sql/0024_lock_fences.sql: the fencing numbers of locks.
ALTER TABLE locks ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;
CREATE TABLE lock_fences (
  name   TEXT COLLATE "C" PRIMARY KEY,
  fence  BIGINT NOT NULL
);
