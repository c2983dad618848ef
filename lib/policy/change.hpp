// A change of a cluster's policy, as `set-policy` asks for it: a preset to switch to and
// KEY=VALUE settings as the user typed them.
#pragma once

#include "policy/policy.hpp"

#include <string>
#include <utility>
#include <vector>

namespace policy {

struct Change
{
  // Switch to this preset ("": keep the kind); the cluster keeps its min, max and schedule.
  std::string preset;
  // What threshold and step take from the config ([MANAGER]) when switched to.
  int sensitivity = 3;
  double high = 50;
  double low = 10;
  int cooldown_s = 120;
  // Keys and values in order, a later one winning: each value is JSON if it parses as JSON,
  // else a string (a bare word such as percent). Errors show the value as typed.
  std::vector<std::pair<std::string, std::string>> settings;
};

// Return the key and value of a --set argument "KEY=VALUE"; a usage error without a key or '='.
core::Result<std::pair<std::string, std::string>> parse_setting(std::string_view text);

// Return the policy `change` makes of `current`; a bad key or value is a usage error naming the
// key and the value as given.
core::Result<PolicyConfig> apply(const PolicyConfig& current, const Change& change);

// Return "key: old -> new" lines (values as JSON, "-" when absent) for the keys whose stored
// values differ between `before` and `after`, in key order.
std::vector<std::string> changed_keys(const PolicyConfig& before, const PolicyConfig& after);

} // namespace policy
