-- A member's status as its balancer reports it (Octavia's health monitor: ONLINE, OFFLINE,
-- DEGRADED, ERROR, NO_MONITOR, DRAINING), read each time sclman applies the membership. NULL
-- when the balancer reports none (nginx, chef-search: sclman's own probes check those).
ALTER TABLE instances ADD COLUMN lb_status TEXT;
