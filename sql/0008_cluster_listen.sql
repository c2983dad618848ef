-- The address the cluster's LB on this host listens on (create-cluster --listen): an IP
-- literal, parsed again whenever it is read. '' is 127.0.0.1, the only address before this
-- migration. The port stays in lb_port.
ALTER TABLE clusters ADD COLUMN lb_listen TEXT NOT NULL DEFAULT '';
