// Capture what the code under test logs through spdlog's default logger while the object lives.
#pragma once

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>

namespace test {

class LogCapture
{
public:
  LogCapture() : m_previous(spdlog::default_logger())
  {
    auto logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_st>(m_out));
    logger->set_level(spdlog::level::trace);
    logger->set_pattern("%l %v");
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(m_previous); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Return what was logged, one "LEVEL message" line per call.
  std::string text() const { return m_out.str(); }

private:
  std::ostringstream m_out;
  std::shared_ptr<spdlog::logger> m_previous;
};

} // namespace test
