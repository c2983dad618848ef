-- A cluster whose LB is in the cloud (the server balancer) may have a public address: a
-- floating IP from this external network (create-cluster --floating-network, default
-- [OPENSTACK] floating_network); '' for none. Sent to Neutron only as a name or id to look up.
ALTER TABLE clusters ADD COLUMN floating_network TEXT NOT NULL DEFAULT '';

-- On the LB instance: its floating IP, once Neutron gave it one (NULL before, and for clusters
-- without one). Read back only as an IP literal.
ALTER TABLE instances ADD COLUMN public_address TEXT;
