#include "engine/victims.hpp"

#include "core/log.hpp"
#include "core/time.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace engine {

namespace {

using state::Instance;

// 0: booting, 1: unhealthy (both serve nothing), 2: in service.
int victim_group(const Instance& i)
{
  if (state::is_booting(i.state)) {
    return 0;
  }
  return i.unhealthy_since ? 1 : 2;
}

bool newer(const VictimCandidate& a, const VictimCandidate& b)
{
  return a.instance->serial > b.instance->serial;
}

std::string serving_nothing_reason(const Instance& i)
{
  if (state::is_booting(i.state)) {
    return fmt::format("still booting ({}): it serves nothing yet", state::to_string(i.state));
  }
  return fmt::format("out of the balancer since {}: it failed its health checks",
                     core::iso8601_utc(*i.unhealthy_since));
}

// Say why `i` goes first under oldest-image: its launch spec, or that it is the newest.
std::string outdated_reason(const Instance& i, const LaunchSpec& current)
{
  if (i.image != current.image) {
    return fmt::format("its image '{}' is not the cluster's current '{}' (serial {})",
                       core::printable(i.image, 64), core::printable(current.image, 64),
                       i.serial);
  }
  if (i.flavor != current.flavor) {
    return fmt::format("its flavor '{}' is not the cluster's current '{}' (serial {})",
                       core::printable(i.flavor, 64), core::printable(current.flavor, 64),
                       i.serial);
  }
  return fmt::format("on the current image and flavor, the newest in service (serial {})",
                     i.serial);
}

// Order the in-service candidates `c` (victim_group 2 each) by `policy`, and say why each is
// first.
std::vector<Victim> rank_serving(policy::Victim policy, std::vector<VictimCandidate> c,
                                 const LaunchSpec& current)
{
  std::vector<Victim> out;
  const auto newest_reason = [](const Instance& i, const char* rule) {
    return fmt::format("{}the newest in service (serial {})", rule, i.serial);
  };
  switch (policy) {
  case policy::Victim::newest:
    std::stable_sort(c.begin(), c.end(), newer);
    for (const auto& v : c) {
      out.push_back({v.instance, newest_reason(*v.instance, "")});
    }
    return out;
  case policy::Victim::oldest:
    std::stable_sort(c.begin(), c.end(), [](const auto& a, const auto& b) {
      const auto since = [](const VictimCandidate& v) {
        return v.instance->in_service_since.value_or(v.instance->created_at);
      };
      if (since(a) != since(b)) {
        return since(a) < since(b);
      }
      return a.instance->serial < b.instance->serial;
    });
    for (const auto& v : c) {
      out.push_back({v.instance, fmt::format("the oldest in service (since {})",
                                             core::iso8601_utc(v.instance->in_service_since.value_or(
                                               v.instance->created_at)))});
    }
    return out;
  case policy::Victim::least_busy: {
    const bool by_connections = std::all_of(c.begin(), c.end(), [](const auto& v) {
      return v.connections.has_value();
    });
    const bool any_load = std::any_of(c.begin(), c.end(), [](const auto& v) {
      return v.load.has_value();
    });
    if (by_connections) {
      std::stable_sort(c.begin(), c.end(), [](const auto& a, const auto& b) {
        return *a.connections != *b.connections ? *a.connections < *b.connections : newer(a, b);
      });
      for (size_t k = 0; k < c.size(); ++k) {
        out.push_back({c[k].instance,
                       fmt::format("the least busy: {} open connections{}", *c[k].connections,
                                   k + 1 < c.size() ? fmt::format(", the next ({}) has {}",
                                                                  c[k + 1].instance->name,
                                                                  *c[k + 1].connections)
                                                    : std::string())});
      }
      return out;
    }
    if (!any_load) {
      std::stable_sort(c.begin(), c.end(), newer);
      for (const auto& v : c) {
        out.push_back({v.instance, newest_reason(*v.instance,
                                                 "least-busy knew no connections and no load "
                                                 "sample: ")});
      }
      return out;
    }
    std::stable_sort(c.begin(), c.end(), [](const auto& a, const auto& b) {
      if (a.load.has_value() != b.load.has_value()) {
        return a.load.has_value();
      }
      if (a.load && *a.load != *b.load) {
        return *a.load < *b.load;
      }
      return newer(a, b);
    });
    for (const auto& v : c) {
      out.push_back({v.instance,
                     v.load ? fmt::format("the least busy by its latest load sample, {:g} (not "
                                          "every instance answered its stub_status)",
                                          *v.load)
                            : std::string("no load sample and no stub_status answer: last of "
                                          "the least busy")});
    }
    return out;
  }
  case policy::Victim::oldest_image:
    std::stable_sort(c.begin(), c.end(), [&](const auto& a, const auto& b) {
      const bool a_old = outdated(*a.instance, current);
      const bool b_old = outdated(*b.instance, current);
      return a_old != b_old ? a_old : newer(a, b);
    });
    for (const auto& v : c) {
      out.push_back({v.instance, outdated_reason(*v.instance, current)});
    }
    return out;
  }
  return out;
}

} // namespace

bool outdated(const Instance& i, const LaunchSpec& current)
{
  return i.image != current.image || i.flavor != current.flavor;
}

std::vector<Victim> rank_victims(policy::Victim policy, std::vector<VictimCandidate> candidates,
                                 const LaunchSpec& current)
{
  std::vector<VictimCandidate> idle;
  std::vector<VictimCandidate> serving;
  for (const auto& c : candidates) {
    (victim_group(*c.instance) == 2 ? serving : idle).push_back(c);
  }
  std::stable_sort(idle.begin(), idle.end(), [](const auto& a, const auto& b) {
    const int ga = victim_group(*a.instance);
    const int gb = victim_group(*b.instance);
    return ga != gb ? ga < gb : newer(a, b);
  });
  std::vector<Victim> out;
  for (const auto& c : idle) {
    out.push_back({c.instance, serving_nothing_reason(*c.instance)});
  }
  for (auto& v : rank_serving(policy, std::move(serving), current)) {
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<Victim> balance_zones(std::vector<Victim> ranked, std::map<std::string, int> live)
{
  std::vector<Victim> out;
  while (!ranked.empty()) {
    auto pick = ranked.begin();
    for (auto it = ranked.begin(); it != ranked.end(); ++it) {
      if (live[it->instance->availability_zone] > live[pick->instance->availability_zone]) {
        pick = it;
      }
    }
    const auto& zone = pick->instance->availability_zone;
    pick->reason = fmt::format("zone '{}' has the most live web instances ({}); {}",
                               core::printable(zone, 64), live[zone], pick->reason);
    --live[zone];
    out.push_back(std::move(*pick));
    ranked.erase(pick);
  }
  return out;
}

} // namespace engine
