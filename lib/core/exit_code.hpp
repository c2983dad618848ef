// The only place that maps an ErrorKind to a process exit status (sysexits.h values).
#pragma once

#include "core/error.hpp"

namespace core {

namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int usage = 64;       // EX_USAGE
inline constexpr int internal = 70;    // EX_SOFTWARE
inline constexpr int state = 74;       // EX_IOERR: the state file
inline constexpr int transient = 75;   // EX_TEMPFAIL: the next tick may succeed
inline constexpr int rejected = 76;    // EX_PROTOCOL: upstream rejected the request
inline constexpr int auth = 77;        // EX_NOPERM: upstream refused our credentials
inline constexpr int config = 78;      // EX_CONFIG
} // namespace exit_code

constexpr int to_exit_code(ErrorKind kind)
{
  switch (kind) {
  case ErrorKind::usage:
    return exit_code::usage;
  case ErrorKind::config:
    return exit_code::config;
  case ErrorKind::state:
    return exit_code::state;
  case ErrorKind::upstream_transient:
  case ErrorKind::busy:
    return exit_code::transient;
  case ErrorKind::upstream_rejected:
    return exit_code::rejected;
  case ErrorKind::upstream_auth:
    return exit_code::auth;
  case ErrorKind::internal:
    return exit_code::internal;
  }
  return exit_code::internal;
}

// Return the exit status of a run that failed with `kind`: as to_exit_code, except that a held
// lock (busy) under --cron (`cron`) is 0, like git's quiet `gc --auto`: the next tick runs it.
constexpr int run_exit_code(ErrorKind kind, bool cron)
{
  return kind == ErrorKind::busy && cron ? exit_code::ok : to_exit_code(kind);
}

} // namespace core
