// libFuzzer target: Chef server answers (a node, a search page, a client with its key, a
// listing, an error body) never crash sclman's readers: each reader of a node or answer either
// gives a value or an error, whatever shape the JSON has.
#include "cm/chef_client.hpp"
#include "cm/chef_nodes.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)cm::chef_error_text(body);
  http::HttpResponse response;
  response.status = 503;
  response.body = std::string(body);
  response.headers.emplace_back("retry-after", std::string(body.substr(0, 24)));
  (void)cm::chef_status_error(response, "GET '/nodes/x'", "sclman");
  const auto answer = cm::parse_chef_body(body, "GET '/nodes/x'");
  if (!answer) {
    return 0;
  }
  const auto& j = *answer;
  (void)cm::chef_node_address(j);
  (void)cm::chef_node_registered(j);
  (void)cm::chef_node_name(j);
  (void)cm::chef_node_cluster(j);
  (void)cm::chef_node_created_at(j);
  (void)cm::chef_node_placed(j, "shop", {"role[web]"});
  (void)cm::chef_node_registered_at(j, "127.0.0.1", 8080);
  (void)cm::chef_client_key(j, "shop-web-1");
  (void)cm::chef_listing_names(j);
  // What the bootstrapper writes back on a node it read.
  auto node = j;
  cm::chef_node_register(node, "127.0.0.1", 8080, 1795975200000);
  const auto registered = cm::chef_node_address(node);
  if (!cm::chef_node_registered_at(node, "127.0.0.1", 8080) || !registered || !*registered
      || (*registered)->to_string() != "127.0.0.1:8080") {
    std::abort();  // a node sclman registered must read back as registered there
  }
  (void)cm::chef_node_set_in_service(node, true);
  if (cm::chef_node_set_in_service(node, true)) {
    std::abort();  // setting the same value twice changes nothing the second time
  }
  if (const auto page = cm::parse_chef_search_page(j, "role:web")) {
    for (const auto& row : page->rows) {
      (void)cm::chef_node_address(row);
      (void)cm::chef_node_name(row);
    }
  }
  return 0;
}
