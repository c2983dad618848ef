#include "cm/chef_config.hpp"

namespace cm {

namespace {

// Return `v` if it is a Chef run list: comma-separated role[NAME] or recipe[NAME] items.
core::Result<std::string> run_list(std::string_view v)
{
  std::string_view rest = v;
  while (true) {
    const auto comma = rest.find(',');
    const auto item = core::trim(rest.substr(0, comma));
    const bool role = item.substr(0, 5) == "role[";
    const bool recipe = item.substr(0, 7) == "recipe[";
    if ((!role && !recipe) || item.back() != ']' || item.size() < (role ? 7u : 9u)) {
      return core::bad_value(v, "a run list such as 'role[web], recipe[base]'");
    }
    if (comma == std::string_view::npos) {
      break;
    }
    rest = rest.substr(comma + 1);
  }
  return std::string(v);
}

} // namespace

std::vector<core::KeyDef> chef_keys()
{
  using C = ChefConfig;
  return {
    {"CHEF", "server_url", core::url(&C::server_url)},
    {"CHEF", "client_name", core::text(&C::client_name)},
    {"CHEF", "client_key", core::path(&C::client_key)},
    {"CHEF", "validation_client_name", core::text(&C::validation_client_name)},
    {"CHEF", "validation_key", core::path(&C::validation_key)},
    {"CHEF", "sign_version", core::one_of(&C::sign_version, {"1.3", "1.0"})},
    {"CHEF", "lb_run_list", core::set_with(&C::lb_run_list, run_list)},
    {"CHEF", "web_run_list", core::set_with(&C::web_run_list, run_list)},
    {"CHEF", "drain_seconds", core::int_in(&C::drain_seconds, 0, 86400)},
    {"CHEF", "register_timeout", core::int_in(&C::register_timeout, 10, 86400)},
    {"CHEF", "request_timeout_ms", core::int_in(&C::request_timeout_ms, 100, 600000)},
  };
}

} // namespace cm
