-- Every decision keeps its full explanation for `sclman why`: samples used and dropped, the
-- computed values, the rule that won and why the others did not, and the clamps applied.

-- JSON object, see policy::decision_json; '{}' for decisions made before this migration and for
-- sizes set by hand.
ALTER TABLE decisions ADD COLUMN explanation TEXT NOT NULL DEFAULT '{}';

-- decide reads the actions carried out within its window (Store::actions_since): without this
-- index it reads every decision the cluster ever had, so its cost grew with the file's age.
CREATE INDEX decisions_done ON decisions (cluster_id, done_at) WHERE status = 'done';
