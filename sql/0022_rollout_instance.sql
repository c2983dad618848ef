-- A rollout of one web instance (`sclman replace CLUSTER --instance NAME`, and the Replace
-- button of sclman serve): it replaces only the instance named here, which existed when it
-- started; NULL replaces every web instance, as before. Checked as an instance name when read
-- back.
ALTER TABLE rollouts ADD COLUMN instance TEXT;
