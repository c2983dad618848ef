-- The cloud a cluster was created on, so that every later command acts on that cloud whatever
-- OS_CLOUD, the OS_* variables or [OPENSTACK] say then. Its clouds.yaml name (when it had one)
-- is part of the provider column ('openstack:NAME'); these columns say what it resolved to:
-- the Keystone URL (with /v3) and the project (id, or domain/name, or the application
-- credential). '' for providers without clouds and for clusters made before this migration
-- (those keep resolving the cloud as they did).
ALTER TABLE clusters ADD COLUMN cloud_auth_url TEXT NOT NULL DEFAULT '';
ALTER TABLE clusters ADD COLUMN cloud_project TEXT NOT NULL DEFAULT '';
