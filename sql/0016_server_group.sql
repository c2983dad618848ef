-- A cluster on OpenStack may put its servers in one Nova server group named sclman-CLUSTER
-- with this policy (create-cluster --server-group, default [OPENSTACK] server_group): '' for
-- none, 'anti-affinity' or 'soft-anti-affinity'. Any other value read back is a state error.
ALTER TABLE clusters ADD COLUMN server_group TEXT NOT NULL DEFAULT '';
