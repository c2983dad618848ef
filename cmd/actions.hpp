// The commands' own code that sclman serve runs for a request (cmd/serve.cpp): the same checks,
// locks, journal and errors as on the command line. Each prints (out()) what the command
// prints, as JSON with --json.
#pragma once

#include "run.hpp"

#include <optional>
#include <string>

namespace cmd {

// create-cluster NAME --web N [--min M] [--max X], with the config's default drivers.
struct CreateRequest
{
  std::string name;
  int web = 0;
  std::optional<int> min;
  std::optional<int> max;
};
core::Result<void> create_cluster(Env& env, const CreateRequest& r);

// delete-cluster NAME.
core::Result<void> delete_cluster(Env& env, const std::string& name);

// set-policy NAME [--policy P] [--min M] [--max X].
struct PolicyRequest
{
  std::string name;
  std::string policy;  // a preset, "" to keep the kind
  std::optional<int> min;
  std::optional<int> max;
};
core::Result<void> set_policy(Env& env, const PolicyRequest& r);

// remove CLUSTER INSTANCE [--force], recording the decision with `source` ("manual",
// "api:NAME").
core::Result<void> remove_member(Env& env, const std::string& cluster,
                                 const std::string& instance, const std::string& source,
                                 bool force = false);

// replace CLUSTER --instance INSTANCE: start the rollout of that one web instance.
core::Result<void> replace_member(Env& env, const std::string& cluster,
                                  const std::string& instance);

} // namespace cmd
