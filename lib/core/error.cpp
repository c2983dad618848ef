#include "core/error.hpp"

namespace core {

const char* to_string(ErrorKind kind)
{
  switch (kind) {
  case ErrorKind::usage:
    return "usage";
  case ErrorKind::config:
    return "config";
  case ErrorKind::state:
    return "state";
  case ErrorKind::upstream_transient:
    return "upstream_transient";
  case ErrorKind::upstream_auth:
    return "upstream_auth";
  case ErrorKind::upstream_rejected:
    return "upstream_rejected";
  case ErrorKind::busy:
    return "busy";
  case ErrorKind::internal:
    return "internal";
  }
  return "internal";
}

} // namespace core
