#include "engine/history.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

namespace engine {

std::vector<std::pair<core::Millis, core::Millis>> spans(const policy::PolicyConfig& config,
                                                         core::Millis now)
{
  std::vector<std::pair<core::Millis, core::Millis>> out;
  for (const auto& r : policy::history_ranges(config)) {
    // The newest span stays open at the top: a sample stamped after `now` (a clock step) is
    // still the newest poll, as it was before spans.
    out.emplace_back(now - r.from_ms, r.to_ms == 0 ? std::numeric_limits<core::Millis>::max()
                                                   : now - r.to_ms);
  }
  std::sort(out.begin(), out.end());
  std::vector<std::pair<core::Millis, core::Millis>> merged;
  for (const auto& span : out) {
    if (!merged.empty() && span.first - 1 <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, span.second);
    } else {
      merged.push_back(span);
    }
  }
  return merged;
}

core::Result<std::vector<std::pair<core::Millis, double>>> poll_totals(state::Store& store,
                                                                       const state::Cluster& cluster,
                                                                       core::Millis since,
                                                                       core::Millis until)
{
  TRY_ASSIGN(const auto samples, store.samples_between(cluster.id, since, until));
  // ts -> sum of the values, values present, instances polled
  std::map<core::Millis, std::tuple<double, int, int>> polls;
  for (const auto& s : samples) {
    auto& [sum, present, polled] = polls[s.ts];
    ++polled;
    if (s.value && policy::load_in_range(*s.value)) {
      sum += *s.value;
      ++present;
    }
  }
  std::vector<std::pair<core::Millis, double>> out;
  for (const auto& [ts, p] : polls) {
    const auto& [sum, present, polled] = p;
    if (present > 0) {
      out.emplace_back(ts, sum / present * polled);
    }
  }
  return out;
}

policy::BootTime boot_time(const std::vector<state::Instance>& instances, int prior_s)
{
  std::vector<const state::Instance*> served;
  for (const auto& i : instances) {
    if (i.role == state::Role::web && i.in_service_since) {
      served.push_back(&i);
    }
  }
  std::sort(served.begin(), served.end(), [](const auto* a, const auto* b) {
    return a->created_at != b->created_at ? a->created_at > b->created_at : a->id > b->id;
  });
  std::vector<core::Millis> durations;
  durations.reserve(served.size());
  for (const auto* i : served) {
    // The times come from the state file: a difference that overflows cannot be a boot time.
    core::Millis d = 0;
    if (!__builtin_sub_overflow(*i->in_service_since, i->created_at, &d)) {
      durations.push_back(d);
    }
  }
  return policy::estimate_boot_time(durations, prior_s);
}

core::Result<policy::History> load_history(state::Store& store,
                                           const state::Cluster& cluster,
                                           const policy::PolicyConfig& given,
                                           core::Millis now,
                                           core::Millis max_age,
                                           int boot_prior_s,
                                           int poll_s)
{
  TRY_ASSIGN(const auto instances, store.instances(cluster.id, true));
  policy::History h;
  h.boot = boot_time(instances, boot_prior_s);
  h.boot->poll_s = poll_s;
  // The spans read follow the horizon the policy will use.
  const auto config = policy::with_boot_time(given, *h.boot);
  const core::Millis since = now - policy::history_window(config);
  h.desired = cluster.desired;
  std::map<std::int64_t, const state::Instance*> by_id;
  for (const auto& i : instances) {
    by_id[i.id] = &i;
    if (i.role != state::Role::web) {
      continue;
    }
    if (i.state == state::InstanceState::in_service) {
      ++h.in_service;
    } else if (state::is_booting(i.state)) {
      ++h.booting;
    }
  }
  // Read only the spans the policy reads: for the predictive policy a few hours now and around
  // each seasonal lag instead of a whole week, so a poll costs the same on a file of any age.
  for (const auto& [from, to] : spans(config, now)) {
    TRY_ASSIGN(const auto samples, store.samples_between(cluster.id, from, to));
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
      is.missing = s.missing;
      h.ticks.back().samples.push_back(std::move(is));
    }
  }
  if (h.ticks.empty() || now - h.ticks.back().ts > max_age) {
    h.ticks.push_back(policy::Tick{now, {}});
  }
  TRY_ASSIGN(h.actions, store.actions_since(cluster.id, since));
  return h;
}

} // namespace engine
