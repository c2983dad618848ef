// What a VM could make a metrics source report as its address (issue 14), and the check that
// such a value, refused, reached the log escaped on one line.
#pragma once

#include "core/endpoint.hpp"
#include "core/log.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace test {

// Return values that are no address of 127.0.0.1 (nor of anything): the injection string, a
// newline, ';', '}', ports 0 and 70000, a host name, 300 characters, bytes that are not UTF-8,
// a NUL, a trailing space.
inline std::vector<std::string> hostile_keys()
{
  return {
    "127.0.0.1:80; } server { listen 1; }", "127.0.0.1:80\nserver 10.0.0.1:80", "127.0.0.1;",
    "127.0.0.1}", "127.0.0.1:0", "127.0.0.1:70000", "localhost:80", std::string(300, '1'),
    "127.0.0.\xff", "127.0.0.1\xc3\xa9", std::string("127.0.0.1\0:80", 13), "127.0.0.1 ",
  };
}

// Check that `log` is the one line `metrics.key_refused` of `source` for `key`, escaped.
inline void check_refused_once(const std::string& log, const std::string& source,
                               const std::string& key)
{
  CHECK(log.rfind("warning metrics.key_refused source=" + source + " value=", 0) == 0);
  CHECK(std::count(log.begin(), log.end(), '\n') == 1);
  CHECK(log.find(core::log_quote(core::printable(key))) != std::string::npos);
  CHECK(std::all_of(log.begin(), log.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == '\n' || (u >= 0x20 && u < 0x7f);
  }));
}

} // namespace test
