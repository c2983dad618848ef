-- 1 if the instance is protected from scale-in (`sclman protect`): never a scale-in victim;
-- 0 otherwise. Read back only as 0 or 1.
ALTER TABLE instances ADD COLUMN protected INTEGER NOT NULL DEFAULT 0;
