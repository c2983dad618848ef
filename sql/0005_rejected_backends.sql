-- Nodes and servers kept out of a cluster's LB because their address did not parse (a hostile
-- or broken value written by a managed VM, the cloud or a metrics source). Replaced on every LB
-- sync: a row lasts while the value stays bad, and a fixed value removes it.
CREATE TABLE rejected_backends (
  cluster_id INTEGER NOT NULL REFERENCES clusters (id),
  name       TEXT    NOT NULL,  -- node or instance name, escaped (core::printable)
  reason     TEXT    NOT NULL,  -- the parser's message, the value escaped
  since      INTEGER NOT NULL,  -- epoch ms of the first sync that rejected it
  PRIMARY KEY (cluster_id, name)
);
