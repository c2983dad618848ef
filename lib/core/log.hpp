// Logging setup: spdlog to stderr, one `event key=value` line per decision or side effect.
#pragma once

#include <string>

namespace core {

// Install a stderr logger named `command` as the default, at `level`
// ("trace" ... "off"). Pattern: `%Y-%m-%dT%H:%M:%S.%e %l %n %v`.
void setup_logging(const std::string& command, const std::string& level);

// Install a logger that drops everything (tests).
void setup_null_logging();

// Return `value` quoted when it holds spaces, quotes or '=' (for key=value logs).
std::string log_quote(const std::string& value);

} // namespace core
