-- What `--metrics-file` exports: counters that only grow (decisions by action, actions by
-- operation and outcome, errors by kind) and the last run of each command.

CREATE TABLE counters (
  name    TEXT    NOT NULL,               -- sclman_decisions_total, ...
  labels  TEXT    NOT NULL,               -- rendered: action="scale_out"
  value   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (name, labels)
) WITHOUT ROWID;

CREATE TABLE runs (
  command      TEXT    PRIMARY KEY,
  ts           INTEGER NOT NULL,          -- when the run ended
  exit_code    INTEGER NOT NULL,
  duration_ms  INTEGER NOT NULL
);
