// Which web instances a scale-in drains, in order, and why ([POLICY] victim). Pure: the engine
// gathers what each candidate's stub_status and latest load sample say, this ranks them.
#pragma once

#include "policy/policy.hpp"
#include "state/model.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace engine {

// A web instance that may be drained: booting or in service, not protected.
struct VictimCandidate
{
  state::Instance* instance = nullptr;
  // Its open connections (stub_status, besides sclman's own), if it answered.
  std::optional<std::int64_t> connections;
  // Its latest load sample's value, if it has one.
  std::optional<double> load;
};

// What the cluster creates web instances with now (its image and flavor): an instance created
// with anything else is outdated, first to go under oldest-image and during a rollout.
struct LaunchSpec
{
  std::string image;
  std::string flavor;
};

// Return true if `i` was created with another image or flavor than `current`.
bool outdated(const state::Instance& i, const LaunchSpec& current);

struct Victim
{
  state::Instance* instance = nullptr;
  std::string reason;  // "the newest in service (serial 5)"
};

// Return `candidates` in the order a scale-in drains them, each with why: first those that
// serve nothing (booting, then out of the balancer as unhealthy; the newest first), then the
// in-service ones as `policy` says:
//   newest        the highest serial first (the least warmed up);
//   oldest        the earliest in service first;
//   least-busy    the fewest open connections first when every one answered its stub_status,
//                 else the lowest latest load sample first (none: last), ties the newest;
//   oldest-image  the outdated ones (not on `current`) first, then the newest.
std::vector<Victim> rank_victims(policy::Victim policy, std::vector<VictimCandidate> candidates,
                                 const LaunchSpec& current);

// Return `ranked` reordered so that each next victim comes from the availability zone with the
// most live web instances left (`live`: by zone, protected ones included, each victim taken
// off its zone's count), in `ranked`'s order within a zone: the zones stay balanced through a
// scale-in, as AWS's AZ rebalancing does. Each reason says which zone and why.
std::vector<Victim> balance_zones(std::vector<Victim> ranked, std::map<std::string, int> live);

} // namespace engine
