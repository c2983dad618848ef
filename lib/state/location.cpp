#include "state/location.hpp"

#include "core/log.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <memory>

namespace state {

using core::ErrorKind;
using core::fail;

namespace {

// True if `text` has 1 to 1,024 bytes, each printable ASCII (a connection string quotes with
// ' and escapes with \, and a password may hold any of them).
bool visible_ascii(std::string_view text)
{
  return !text.empty() && text.size() <= 1024 && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= 0x20 && c < 0x7f;
  });
}

// Return libpq's message `text` with what it quotes ("...": the text it stopped at, the whole
// URI at times, a password among it) left out.
std::string without_quoted(const std::string& text)
{
  std::string out;
  bool quoted = false;
  for (const char c : text) {
    if (c == '"') {
      out += quoted ? "" : "(not shown)";
      quoted = !quoted;
    } else if (!quoted) {
      out += c;
    }
  }
  return out;
}

} // namespace

core::Result<std::string> check_database_url(std::string_view url)
{
  // Not shown: a malformed value may hold a password.
  if (!visible_ascii(url)) {
    return fail(ErrorKind::config,
                "[STATE] url is not printable ASCII of 1 to 1024 bytes (not shown: it may hold "
                "a password)");
  }
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
    PQconninfoParse(std::string(url).c_str(), &error), &PQconninfoFree);
  if (!options) {
    std::string why = error ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && why.back() == '\n') {
      why.pop_back();
    }
    return fail(ErrorKind::config,
                fmt::format("[STATE] url is not a libpq connection string or URI: {}",
                            core::printable(without_quoted(why), 160)));
  }
  std::string host = "localhost";
  std::string port = "5432";
  std::string dbname;
  std::string user;
  for (const auto* o = options.get(); o->keyword; ++o) {
    if (!o->val || !*o->val) {
      continue;
    }
    const std::string_view key = o->keyword;
    if (key == "password") {
      return fail(ErrorKind::config,
                  "[STATE] url holds a password: put it in [STATE] password_file or a libpq "
                  "passfile (PGPASSFILE), which stay out of the config and the logs");
    }
    if (key == "host") {
      host = o->val;
    } else if (key == "port") {
      port = o->val;
    } else if (key == "dbname") {
      dbname = o->val;
    } else if (key == "user") {
      user = o->val;
    }
  }
  auto shown = fmt::format("'{}' on {}:{}", core::printable(dbname.empty() ? user : dbname, 60),
                           core::printable(host, 60), core::printable(port, 10));
  if (!user.empty()) {
    shown += fmt::format(" as {}", core::printable(user, 60));
  }
  return shown;
}

core::Result<std::string> parse_password_file(std::string_view text, const std::string& path)
{
  auto line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (!visible_ascii(line)) {
    return fail(ErrorKind::config,
                fmt::format("[STATE] password_file '{}' must hold the password on its first "
                            "line: printable text of 1 to 1024 bytes",
                            core::printable(path, 200)));
  }
  return std::string(line);
}

} // namespace state
