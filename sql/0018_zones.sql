-- Placement on OpenStack (create-cluster --availability-zones, default [OPENSTACK]
-- availability_zones): the availability zones a cluster spreads its web servers over, as a
-- comma-separated list ('' for none: Nova picks). Read back only as distinct printable names
-- without commas.
ALTER TABLE clusters ADD COLUMN availability_zones TEXT NOT NULL DEFAULT '';
-- Per instance: the zone it was requested in ('' for none) and the Nova server group it was
-- created in ('' for none), as status shows them.
ALTER TABLE instances ADD COLUMN availability_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN server_group TEXT NOT NULL DEFAULT '';
UPDATE instances SET server_group = COALESCE((SELECT 'sclman-' || name FROM clusters
  WHERE clusters.id = instances.cluster_id AND clusters.server_group != ''), '');
