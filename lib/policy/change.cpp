#include "policy/change.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

namespace policy {

namespace {

// Return `text` as JSON text: itself if it is a JSON value (so numbers reach the parser as
// typed: 5e9 stays 5e9), else a JSON string of it.
std::string json_text_of(const std::string& text)
{
  try {
    const auto parsed = nlohmann::json::parse(text);
    return parsed.is_discarded() ? nlohmann::json(text).dump() : text;
  } catch (const nlohmann::json::exception&) {
    return nlohmann::json(text).dump();
  }
}

} // namespace

core::Result<std::pair<std::string, std::string>> parse_setting(std::string_view text)
{
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("--set '{}': expected KEY=VALUE", text));
  }
  return std::pair<std::string, std::string>{text.substr(0, eq), text.substr(eq + 1)};
}

core::Result<PolicyConfig> apply(const PolicyConfig& current, const Change& change)
{
  const auto before = nlohmann::json::parse(to_json(current));
  nlohmann::json j = before;
  if (!change.preset.empty()) {
    // A new kind starts from its preset's defaults; the cluster keeps its bounds and schedule.
    TRY_ASSIGN(auto start, preset(change.preset));
    if (start.kind == Kind::threshold || start.kind == Kind::step) {
      // As create-cluster: the original tool's rule takes its marks from [MANAGER].
      start.sensitivity = change.sensitivity;
      start.high = change.high;
      start.low = change.low;
      start.cooldown_s = change.cooldown_s;
    }
    j = nlohmann::json::parse(to_json(start));
    for (const char* key : {"min", "max", "schedule"}) {
      if (before.contains(key)) {
        j[key] = before[key];
      }
    }
  }
  // The settings are appended to the object's text, not put into it, so that the parser sees
  // each value as typed; of a key given twice, JSON takes the last.
  std::string text = j.dump();
  text.pop_back();  // the closing brace
  for (const auto& [key, value] : change.settings) {
    text += fmt::format(",{}:{}", nlohmann::json(key).dump(), json_text_of(value));
  }
  text += "}";
  auto config = policy_from_json(text);
  if (!config) {
    return core::fail(core::ErrorKind::usage, config.error().message);
  }
  return config;
}

std::vector<std::string> changed_keys(const PolicyConfig& before, const PolicyConfig& after)
{
  const auto a = nlohmann::json::parse(to_json(before));
  const auto b = nlohmann::json::parse(to_json(after));
  std::set<std::string> keys;
  for (const auto& item : a.items()) {
    keys.insert(item.key());
  }
  for (const auto& item : b.items()) {
    keys.insert(item.key());
  }
  std::vector<std::string> out;
  for (const auto& k : keys) {
    const auto x = a.contains(k) ? a[k].dump() : std::string("-");
    const auto y = b.contains(k) ? b[k].dump() : std::string("-");
    if (x != y) {
      out.push_back(fmt::format("{}: {} -> {}", k, x, y));
    }
  }
  return out;
}

} // namespace policy
