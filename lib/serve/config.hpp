// [SERVE]: where and how `sclman serve` listens.
#pragma once

#include "core/config.hpp"

#include <string>
#include <vector>

namespace serve {

struct ServeConfig
{
  std::string listen = "127.0.0.1:8470";  // an IP literal and a port (core::Endpoint)
  std::string tls_cert;     // PEM certificate chain: with tls_key, serve speaks HTTPS only
  std::string tls_key;      // its private key (a file only its owner may read)
  int threads = 8;          // requests served at once
  int max_body_kib = 64;    // a request body above this is refused (413)
  int request_timeout = 10; // seconds to read a request or write a response
};

// Return the keys of [SERVE].
std::vector<core::KeyDef> serve_keys();

} // namespace serve
