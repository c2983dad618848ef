// Where the state lives: an SQLite file (the embedded default), or a PostgreSQL database
// shared by several sclman hosts ([STATE] url).
#pragma once

#include "core/result.hpp"

#include <string>
#include <string_view>

namespace state {

struct Location
{
  // The state file; with `url`, the file's place still names the state directory, which holds
  // what stays on this host (the local provider's instances).
  std::string path;
  // A libpq connection string or URI ([STATE] url); empty for SQLite.
  std::string url;
  // The database password ([STATE] password_file); empty: none, or libpq's passfile.
  std::string password;
};

// Check `url` as [STATE] url: printable text of at most 1,024 bytes that libpq parses as a
// connection string or URI, holding no password (that belongs in [STATE] password_file or a
// passfile, out of the config and the logs). Return how errors and logs name the database:
// "'DB' on HOST:PORT as USER", each part escaped; a config error otherwise.
core::Result<std::string> check_database_url(std::string_view url);

// Return the password in `text` (the contents of [STATE] password_file, at `path`): its first
// line, at most 1,024 bytes, no control characters; a config error otherwise.
core::Result<std::string> parse_password_file(std::string_view text, const std::string& path);

} // namespace state
