#include "engine/history.hpp"

#include <map>

namespace engine {

core::Result<policy::History> load_history(state::Store& store,
                                           const state::Cluster& cluster,
                                           const policy::PolicyConfig& config,
                                           core::Millis now,
                                           core::Millis max_age)
{
  const core::Millis since = now - policy::history_window(config);
  policy::History h;
  h.desired = cluster.desired;
  TRY_ASSIGN(const auto instances, store.instances(cluster.id, true));
  std::map<std::int64_t, const state::Instance*> by_id;
  for (const auto& i : instances) {
    by_id[i.id] = &i;
    if (i.role != "web") {
      continue;
    }
    if (i.state == state::InstanceState::in_service) {
      ++h.in_service;
    } else if (state::is_booting(i.state)) {
      ++h.booting;
    }
  }
  TRY_ASSIGN(const auto samples, store.samples_since(cluster.id, since));
  for (const auto& s : samples) {
    if (h.ticks.empty() || h.ticks.back().ts != s.ts) {
      h.ticks.push_back(policy::Tick{s.ts, {}});
    }
    policy::InstanceSample is;
    if (auto it = by_id.find(s.instance_id); it != by_id.end()) {
      is.instance = it->second->name;
      is.in_service_since = it->second->in_service_since.value_or(0);
    }
    is.value = s.value;
    h.ticks.back().samples.push_back(std::move(is));
  }
  if (h.ticks.empty() || now - h.ticks.back().ts > max_age) {
    h.ticks.push_back(policy::Tick{now, {}});
  }
  TRY_ASSIGN(h.actions, store.actions_since(cluster.id, since));
  return h;
}

} // namespace engine
