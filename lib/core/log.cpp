#include "core/log.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>
#include <syslog.h>

namespace core {

namespace {

// One JSON object per line, for log shippers: the message's event and fields become keys.
class JsonStderrSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex>
{
protected:
  void sink_it_(const spdlog::details::log_msg& msg) override
  {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      msg.time.time_since_epoch())
                      .count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    const auto stamp = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                                   ms % 1000);
    const auto level = spdlog::level::to_string_view(msg.level);
    const auto [event, fields] =
      parse_log_message(std::string_view(msg.payload.data(), msg.payload.size()));
    nlohmann::json j = {
      {"time", stamp},
      {"level", std::string(level.data(), level.size())},
      {"command", std::string(msg.logger_name.data(), msg.logger_name.size())},
      {"event", event},
    };
    for (const auto& [k, v] : fields) {
      j[k] = v;
    }
    const auto line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

} // namespace

std::string log_level_for(const std::string& level, bool cron, int verbose)
{
  if (verbose == 1) {
    return "debug";
  }
  if (verbose > 1) {
    return "trace";
  }
  if (cron && (level == "info" || level == "debug" || level == "trace")) {
    return "warn";
  }
  return level;
}

void setup_logging(const std::string& command,
                   const std::string& level,
                   LogTarget target,
                   LogFormat format)
{
  const auto name = command.empty() ? std::string("sclman") : command;
  std::shared_ptr<spdlog::logger> logger;
  if (target == LogTarget::syslog) {
    // Formatting on: the message carries the command's name before the event.
    auto sink = std::make_shared<spdlog::sinks::syslog_sink_st>("sclman", LOG_PID, LOG_DAEMON,
                                                                 true);
    logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_pattern("%n %v");
  } else if (format == LogFormat::json) {
    logger = std::make_shared<spdlog::logger>(name, std::make_shared<JsonStderrSink>());
  } else {
    logger = std::make_shared<spdlog::logger>(name,
                                              std::make_shared<spdlog::sinks::stderr_sink_st>());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %n %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

void setup_null_logging()
{
  auto logger = std::make_shared<spdlog::logger>("null",
                                                 std::make_shared<spdlog::sinks::null_sink_st>());
  spdlog::set_default_logger(logger);
}

bool is_printable(std::string_view text, std::size_t max)
{
  return text.size() <= max && printable(text, max) == text;
}

std::string printable(std::string_view text, std::size_t max)
{
  std::string out;
  for (const char c : text.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '\\' || c == '\'' || c == '"') {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  if (text.size() > max) {
    out += "...";
  }
  return out;
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

std::pair<std::string, std::map<std::string, std::string>> parse_log_message(std::string_view msg)
{
  std::map<std::string, std::string> fields;
  size_t pos = msg.find(' ');
  std::string event(msg.substr(0, pos));
  while (pos != std::string_view::npos && pos < msg.size()) {
    while (pos < msg.size() && msg[pos] == ' ') {
      ++pos;
    }
    const auto eq = msg.find('=', pos);
    const auto space = msg.find(' ', pos);
    if (eq == std::string_view::npos || (space != std::string_view::npos && space < eq)) {
      // Not a key=value pair: keep the rest as text.
      if (pos < msg.size()) {
        fields["text"] = std::string(msg.substr(pos));
      }
      break;
    }
    const std::string key(msg.substr(pos, eq - pos));
    std::string value;
    pos = eq + 1;
    if (pos < msg.size() && msg[pos] == '"') {
      ++pos;
      while (pos < msg.size() && msg[pos] != '"') {
        if (msg[pos] == '\\' && pos + 1 < msg.size()) {
          ++pos;
        }
        value += msg[pos++];
      }
      ++pos;
    } else {
      const auto end = msg.find(' ', pos);
      value = std::string(msg.substr(pos, end == std::string_view::npos ? msg.npos : end - pos));
      pos = end;
    }
    fields[key] = value;
  }
  return {event, fields};
}

} // namespace core
