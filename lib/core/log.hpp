// Logging setup: spdlog to stderr (cron mails it) or syslog, as text or JSON lines; one
// `event key=value` line per decision or side effect.
#pragma once

#include "core/result.hpp"

#include <map>
#include <string>
#include <string_view>

namespace core {

enum class LogTarget { stderr_text, syslog };
enum class LogFormat { text, json };

// Install a logger named `command` as the default, at `level` ("trace" ... "off"). Text on
// stderr uses the pattern `%Y-%m-%dT%H:%M:%S.%e %l %n %v`; JSON writes one object a line with
// time, level, command, event and the key=value fields.
void setup_logging(const std::string& command,
                   const std::string& level,
                   LogTarget target = LogTarget::stderr_text,
                   LogFormat format = LogFormat::text);

// Return the level a run logs at: `level` from the config, at most warn under --cron (`cron`:
// cron mails only what needs an operator), debug with one -v (`verbose` 1), trace with more.
std::string log_level_for(const std::string& level, bool cron, int verbose);

// Install a logger that drops everything (tests).
void setup_null_logging();

// Return `text` fit for a log line or an error message, where it may be hostile (a value a VM
// or a metrics source sent): bytes outside printable ASCII, quotes and backslashes as \xNN, cut
// to `max` characters with "..." after.
std::string printable(std::string_view text, std::size_t max = 80);

// Return true if `text` is at most `max` bytes that printable() keeps as they are (printable
// ASCII without quotes or backslashes): text fit to store and show as it came.
bool is_printable(std::string_view text, std::size_t max);

// Return `value` quoted when it holds spaces, quotes or '=' (for key=value logs).
std::string log_quote(const std::string& value);

// Return the event and key=value fields of a log message ("a.b k=v q=\"x y\"").
std::pair<std::string, std::map<std::string, std::string>> parse_log_message(std::string_view msg);

} // namespace core
