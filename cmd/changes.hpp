// What acting commands print with --json (man sclman(1), JSON OUTPUT): the command, whether it
// was a dry run, and what it changed (or, with --dry-run, would change), in one schema.
#pragma once

#include "state/model.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace cmd {

// {"name", "role", "from", "to"}: one instance's change of state; a null name is an instance not
// made yet, a null `from` one that did not exist, a null `to` a step not known before it runs.
nlohmann::json instance_change(const std::optional<std::string>& name,
                               state::Role role,
                               std::optional<state::InstanceState> from,
                               std::optional<state::InstanceState> to);

// The changes between two listings of one cluster's instances (both with the gone ones), by id.
nlohmann::json instance_changes(const std::vector<state::Instance>& before,
                                const std::vector<state::Instance>& after);

// {"command": command, "dry_run": dry_run} merged with `body`.
nlohmann::json envelope(const std::string& command, bool dry_run, nlohmann::json body);

} // namespace cmd
