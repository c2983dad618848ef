-- In-service health checks ([HEALTH]): when an in-service web instance failed its HTTP check
-- unhealthy_threshold times in a row, the time it was taken out of the balancer. NULL while
-- it is healthy. It stays in state in_service (it still counts toward the cluster's size)
-- until it passes healthy_threshold checks in a row or the grace runs out (then error, and
-- replaced). Its `error` says why it failed.
ALTER TABLE instances ADD COLUMN unhealthy_since INTEGER;
