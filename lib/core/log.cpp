#include "core/log.hpp"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace core {

void setup_logging(const std::string& command, const std::string& level)
{
  auto logger = spdlog::stderr_logger_st(command.empty() ? "sclman" : command);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %n %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

void setup_null_logging()
{
  auto logger = std::make_shared<spdlog::logger>("null",
                                                 std::make_shared<spdlog::sinks::null_sink_st>());
  spdlog::set_default_logger(logger);
}

std::string log_quote(const std::string& value)
{
  if (value.find_first_of(" \t\"=") == std::string::npos && !value.empty()) {
    return value;
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '"';
  return out;
}

} // namespace core
