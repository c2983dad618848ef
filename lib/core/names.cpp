#include "core/names.hpp"

#include "core/log.hpp"

#include <fmt/format.h>

#include <algorithm>


namespace core {

Result<void> validate_cluster_name(std::string_view name)
{
  auto bad = [&] {
    return fail(ErrorKind::usage,
                fmt::format("invalid cluster name '{}': must match ^[a-z][a-z0-9-]{{0,30}}$",
                            printable(name)));
  };
  if (name.empty() || name.size() > 31) {
    return bad();
  }
  if (name[0] < 'a' || name[0] > 'z') {
    return bad();
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) {
      return bad();
    }
  }
  return {};
}

Result<void> validate_object_id(std::string_view id)
{
  const bool ok = !id.empty() && id.size() <= 64
                  && id.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyz"
                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ-")
                       == std::string_view::npos;
  if (!ok) {
    return fail(ErrorKind::usage, fmt::format("invalid object id '{}'", printable(id)));
  }
  return {};
}

Result<std::vector<std::string>> parse_zone_list(std::string_view list)
{
  std::vector<std::string> zones;
  const auto trimmed = [](std::string_view v) {
    const auto first = v.find_first_not_of(' ');
    if (first == std::string_view::npos) {
      return std::string_view();
    }
    return v.substr(first, v.find_last_not_of(' ') - first + 1);
  };
  if (trimmed(list).empty()) {
    return zones;
  }
  for (std::size_t at = 0;;) {
    const auto comma = list.find(',', at);
    const auto name = trimmed(list.substr(at, comma == std::string_view::npos ? comma
                                                                             : comma - at));
    if (name.empty() || !is_printable(name, 255)) {
      return fail(ErrorKind::usage,
                  fmt::format("availability zones '{}': each zone is a name of 1 to 255 "
                              "printable characters, separated by commas",
                              printable(list, 80)));
    }
    if (std::find(zones.begin(), zones.end(), name) != zones.end()) {
      return fail(ErrorKind::usage, fmt::format("availability zones '{}': '{}' twice",
                                                printable(list, 80), printable(name, 40)));
    }
    zones.emplace_back(name);
    if (zones.size() > k_max_zones) {
      return fail(ErrorKind::usage, fmt::format("availability zones '{}': more than {}",
                                                printable(list, 80), k_max_zones));
    }
    if (comma == std::string_view::npos) {
      return zones;
    }
    at = comma + 1;
  }
}

std::string zone_list_text(const std::vector<std::string>& zones)
{
  std::string out;
  for (const auto& z : zones) {
    out += (out.empty() ? "" : ",") + z;
  }
  return out;
}

Result<void> validate_instance_name(std::string_view name)
{
  auto bad = [&] {
    return fail(ErrorKind::usage,
                fmt::format("invalid instance name '{}': must be CLUSTER-lb-N or CLUSTER-web-N",
                            printable(name)));
  };
  const auto dash = name.rfind('-');
  if (dash == std::string_view::npos) {
    return bad();
  }
  const auto serial = name.substr(dash + 1);
  if (serial.empty() || serial.size() > 18 || serial[0] == '0') {
    return bad();
  }
  for (const char c : serial) {
    if (c < '0' || c > '9') {
      return bad();
    }
  }
  auto rest = name.substr(0, dash);
  for (const std::string_view role : {"-lb", "-web"}) {
    if (rest.size() > role.size() && rest.substr(rest.size() - role.size()) == role) {
      if (!validate_cluster_name(rest.substr(0, rest.size() - role.size()))) {
        return bad();
      }
      return {};
    }
  }
  return bad();
}

std::string instance_name(std::string_view cluster, std::string_view role, long serial)
{
  return fmt::format("{}-{}-{}", cluster, role, serial);
}


std::string human_age(std::int64_t ms)
{
  const auto s = ms / 1000;
  if (s < 120) {
    return fmt::format("{}s", s);
  }
  if (s < 7200) {
    return fmt::format("{}m", s / 60);
  }
  if (s < 172800) {
    return fmt::format("{}h", s / 3600);
  }
  return fmt::format("{}d", s / 86400);
}

} // namespace core
