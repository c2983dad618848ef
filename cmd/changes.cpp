#include "changes.hpp"

#include <map>

namespace cmd {

nlohmann::json instance_change(const std::optional<std::string>& name,
                               state::Role role,
                               std::optional<state::InstanceState> from,
                               std::optional<state::InstanceState> to)
{
  auto state_json = [](std::optional<state::InstanceState> s) {
    return s ? nlohmann::json(state::to_string(*s)) : nlohmann::json(nullptr);
  };
  return nlohmann::json{{"name", name ? nlohmann::json(*name) : nlohmann::json(nullptr)},
                        {"role", state::to_string(role)},
                        {"from", state_json(from)},
                        {"to", state_json(to)}};
}

nlohmann::json instance_changes(const std::vector<state::Instance>& before,
                                const std::vector<state::Instance>& after)
{
  std::map<std::int64_t, state::InstanceState> was;
  for (const auto& i : before) {
    was[i.id] = i.state;
  }
  auto list = nlohmann::json::array();
  for (const auto& i : after) {
    const auto found = was.find(i.id);
    if (found == was.end()) {
      list.push_back(instance_change(i.name, i.role, std::nullopt, i.state));
    } else if (found->second != i.state) {
      list.push_back(instance_change(i.name, i.role, found->second, i.state));
    }
  }
  return list;
}

nlohmann::json envelope(const std::string& command, bool dry_run, nlohmann::json body)
{
  nlohmann::json j{{"command", command}, {"dry_run", dry_run}};
  j.update(body);
  return j;
}

} // namespace cmd
