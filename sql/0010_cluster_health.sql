-- A cluster's own [HEALTH] keys (create-cluster --health KEY=VALUE): "key = value" lines, set
-- over the config's [HEALTH] for this cluster; parsed again by the config's key table whenever
-- the row is read. '' is none: the config's keys as they are.
ALTER TABLE clusters ADD COLUMN health TEXT NOT NULL DEFAULT '';
