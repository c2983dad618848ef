-- Fencing numbers of locks (a state shared by several hosts, [STATE] url). Each taking of a lock
-- gets the next number of its name, kept here so that it only grows, even though a released
-- lock's row leaves table locks; the holder's number is in its locks row. A run whose number is
-- no longer the row's (another run took the lock over while it was stopped) has its writes to
-- that cluster refused (Store::begin_intent, Store::update_instance).
ALTER TABLE locks ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
CREATE TABLE lock_fences (
  name   TEXT    PRIMARY KEY,
  fence  INTEGER NOT NULL
) WITHOUT ROWID;
