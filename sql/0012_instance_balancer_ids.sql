-- On an LB instance, the ids of the objects its balancer made beside the LB itself (Octavia:
-- the listener and the pool), read at each apply of the membership; NULL for balancers that
-- make none. `status --json` shows them as balancer_ids.
ALTER TABLE instances ADD COLUMN lb_listener_id TEXT;
ALTER TABLE instances ADD COLUMN lb_pool_id TEXT;
