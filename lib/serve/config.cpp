#include "serve/config.hpp"

#include "core/endpoint.hpp"

namespace serve {

std::vector<core::KeyDef> serve_keys()
{
  using S = ServeConfig;
  const auto endpoint = [](std::string_view v) -> core::Result<std::string> {
    auto parsed = core::Endpoint::parse(v);
    if (!parsed) {
      return core::bad_value(v, "an IP address and a port, as 127.0.0.1:8470 or [::1]:8470");
    }
    return parsed->to_string();
  };
  return {
    {"SERVE", "listen", core::set_with(&S::listen, endpoint)},
    {"SERVE", "tls_cert", core::path(&S::tls_cert)},
    {"SERVE", "tls_key", core::path(&S::tls_key)},
    {"SERVE", "threads", core::int_in(&S::threads, 1, 256)},
    {"SERVE", "max_body_kib", core::int_in(&S::max_body_kib, 1, 16384)},
    {"SERVE", "request_timeout", core::int_in(&S::request_timeout, 1, 300)},
  };
}

} // namespace serve
