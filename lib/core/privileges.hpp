// Running as root on a host where the state directory belongs to the package's user: become that
// user before touching anything, so that every file a run makes (the state file, its journal,
// local instances and the logs of their servers) stays the owner's, and the next run as that
// user (cron, systemd) can use it. `sudo sclman scale-out ...` then does what the chain would.
#pragma once

#include "core/result.hpp"

#include <optional>
#include <string>

namespace core {

// If this process runs as root and the nearest existing directory of `state_path` belongs to
// another user, take that user's groups, gid and uid, for good; return the user's name. Return
// nothing when not root, or when root owns the directory. A directory owned by a uid that names
// no user is refused (config): there is no one to become.
Result<std::optional<std::string>> become_state_owner(const std::string& state_path);

} // namespace core
