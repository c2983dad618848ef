// Readers of JSON of any shape, shared by the Chef sources: what a server sent decides nothing
// but the result.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace cm::chef_json {

// Return the member `key` of `j` if `j` is an object that has it, else nullptr. Every reader of
// a server answer goes through this: the answer may have any shape.
inline const nlohmann::json* member(const nlohmann::json& j, const char* key)
{
  if (!j.is_object()) {
    return nullptr;
  }
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

inline std::string string_at(const nlohmann::json& j, const char* key)
{
  const auto* m = member(j, key);
  return m && m->is_string() ? m->get<std::string>() : std::string();
}

} // namespace cm::chef_json
