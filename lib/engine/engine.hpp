// The instance state machine, shared by the commands that act: each call advances instances
// as far as they can go now, never waiting for minutes.
//
//   requested -> building -> active -> bootstrapping -> in_service -> draining -> deleting -> gone
//                    \-> error (kept for gc and for the operator to see)
#pragma once

#include "engine/drivers.hpp"
#include "engine/victims.hpp"
#include "metrics/stub_status.hpp"
#include "state/store.hpp"

#include <map>
#include <memory>

namespace engine {

enum class Step { grow, shrink, all };

// The most web instances one run requests; the next run requests more.
inline constexpr int k_request_batch = 20;

// The in-service HTTP check ([HEALTH]).
struct HealthCheck
{
  std::string path = "/";
  core::Millis interval_ms = 2000;  // between the checks of one instance in a run
  int timeout_ms = 2000;
  int healthy_threshold = 2;
  int unhealthy_threshold = 3;
  core::Millis grace_ms = 120000;   // out of the balancer this long: replaced
};

struct Options
{
  core::Millis deadline = 0;  // steady-clock ms after which no new side effect starts
  int drain_seconds = 300;  // the longest a drain waits for the requests in flight
  int boot_timeout = 300;
  int health_timeout_ms = 2000;  // the bootstrap's check
  HealthCheck health;
  int failure_budget = 3;
  int max_instances = 100;   // [MANAGER] man_max_instances: no cluster acts on a larger size
  int request_batch = k_request_batch;
  std::string flavor;
  std::string image;
};

// What the cluster's running rollout (sclman replace) asks of a run: its batch's web instances
// above the desired size (surge); the instances it replaces drain first and are never taken
// back into service.
struct RolloutStep
{
  std::optional<state::Rollout> rollout;  // running, if any
  int surge = 0;
};

class Engine
{
public:
  Engine(state::Store& store, Drivers drivers, Options options);

  // Check health, apply the cluster's desired size (Step::grow adds instances, Step::shrink
  // drains the excess), advance every instance as far as it goes now, and sync the LB.
  core::Result<void> reconcile(state::Cluster& cluster, Step step);

  // Move in-service web instances whose service died to error; restart a dead LB. Check each
  // other in-service web instance over HTTP (options.health): take it out of the balancer
  // after unhealthy_threshold failures in a row (unhealthy_since), back in after
  // healthy_threshold passes, to error once it has been out for the grace (fill_to_desired
  // then replaces it). Return how many instances were marked error. `http` false: the service
  // checks only (the HTTP checks run once a tick, in scale-out: under a saturating load each
  // GET waits its turn, and scale-in and gc doing them again made a tick three times longer).
  core::Result<int> check_health(state::Cluster& cluster, bool http = true);

  // Make the LB forward to exactly the cluster's in-service web instances whose address parses
  // (core::Endpoint); the others, and nodes the balancer itself rejects, are recorded as
  // rejected backends and logged.
  core::Result<void> sync_lb(state::Cluster& cluster);
  // Drain web instance `name` of `cluster`, chosen by hand (`why` is recorded as its victim
  // reason), then sync the LB; the chain's scale-in deletes it once drained. A usage error if
  // it is not a web instance booting or in service.
  core::Result<void> drain_chosen(state::Cluster& cluster, const std::string& name,
                                  const std::string& why);
  // Give the cluster's LB in service its floating IP from the cluster's floating network, if it
  // has one and the LB has none yet (each run until it has).
  core::Result<void> ensure_public_address(const state::Cluster& cluster);

  // Set `cluster.desired` to the size to act on: the stored one clamped to the widest bounds
  // of the cluster's policy (policy::size_range) and to max_instances. A stored value outside
  // them (a corrupted row) is logged as an error; the row is left as it is.
  core::Result<void> clamp_desired(state::Cluster& cluster);

  // Bring the cluster's live size up to its (clamped) desired size: first take draining web
  // instances whose service still runs back into service (the latest drained first: booted and
  // healthy, they cost no boot), then add requested web rows, at most request_batch of them,
  // and none after the deadline. Return the rows added.
  // A running rollout adds its surge to the desired size and is never given back an instance it
  // replaces.
  core::Result<int> fill_to_desired(state::Cluster& cluster, const RolloutStep& rollout = {});

  // Drain web instances above the (clamped) desired size, none after the deadline: those
  // that serve nothing first, then as the policy's victim key says (rank_victims); protected
  // ones never. Each victim is recorded with why (Store::insert_victim). Under a running rollout
  // the size is the desired one plus its surge, and the instances it replaces go first.
  core::Result<std::vector<std::string>> drain_excess(state::Cluster& cluster,
                                                      const RolloutStep& rollout = {});

  // Carry the cluster's running rollout (sclman replace) one step on, and return what it asks of
  // this run (RolloutStep):
  // - one of its new web instances failed (error): the rollout fails, and the cluster gets its
  //   old image and flavor back; the instances it has not replaced yet keep serving;
  // - a batch runs: it ends once the cluster has its size plus the surge and every new web
  //   instance is in service and healthy (the excess then drains, replaced instances first);
  // - no instance it replaces is left (protected ones stay): it is done;
  // - else, once the last batch's excess has drained and its pause has passed, the next batch
  //   starts: up to `batch` instances, as many as fit under max_instances as a surge, the rest
  //   drained first while at least min_in_service stay in service.
  core::Result<RolloutStep> step_rollout(state::Cluster& cluster);

  // Advance one instance by one step; return true if its state changed.
  core::Result<bool> advance(state::Cluster& cluster, state::Instance& instance);

  // Delete an instance in state error or draining now (remove from LB first); gc and
  // delete-cluster use it.
  core::Result<void> destroy(state::Cluster& cluster, state::Instance& instance);

  // Undo what a failed run did to the cluster's web instances, given the state of each before
  // it (`before`, by id): rows it added that reached no provider are gone, servers it made are
  // deleted, instances it moved from in service to draining are back in service, and draining
  // ones it took back into service drain again.
  core::Result<void> take_back(state::Cluster& cluster,
                               const std::map<std::int64_t, state::InstanceState>& before);

  // Return true once the run's deadline has passed.
  bool out_of_time() const;

  // Return the driver view of an instance.
  static core::InstanceRef ref(const state::Cluster& cluster, const state::Instance& instance);

private:
  // One function per instance state: advance an instance in that state by one step; return
  // true if its state changed. advance() only dispatches.
  core::Result<bool> advance_requested(state::Cluster& cluster, state::Instance& instance);
  core::Result<bool> advance_building(state::Cluster& cluster, state::Instance& instance);
  core::Result<bool> advance_active(state::Cluster& cluster, state::Instance& instance);
  core::Result<bool> advance_bootstrapping(state::Cluster& cluster, state::Instance& instance);
  // A draining instance is deleted once it is idle (no request in flight on its stub_status)
  // or the drain deadline ([MANAGER] man_drain_seconds) has passed, whichever comes first, but
  // never before the bootstrapper's drain_seconds (the time its balancer takes to let go).
  core::Result<bool> advance_draining(state::Cluster& cluster, state::Instance& instance);
  // Return the instance's connections besides sclman's own (its stub_status), or nothing when
  // it does not tell (no answer, not a stub_status page, no address).
  std::optional<metrics::Connections> connections_of(const state::Instance& instance);
  // Fill in each in-service candidate's open connections and its latest load sample no older
  // than `max_age_ms` (least-busy).
  core::Result<void> measure_busy(const state::Cluster& cluster,
                                  std::vector<VictimCandidate>& candidates,
                                  core::Millis max_age_ms);
  // Take up to `wanted` draining web instances of `all` whose service runs and passes one
  // [HEALTH] check back into service; return how many.
  core::Result<int> reclaim_draining(state::Cluster& cluster, std::vector<state::Instance>& all,
                                     int wanted, const RolloutStep& rollout);
  // Take web instance `i` out of service (a booting one straight to deleting) as a scale-in
  // victim of `victim_policy`, and record why.
  core::Result<void> drain_victim(state::Cluster& cluster, state::Instance& i,
                                  const std::string& victim_policy, const std::string& why);
  // Start the rollout's next batch (step_rollout).
  core::Result<RolloutStep> start_batch(state::Cluster& cluster, state::Rollout& r,
                                        std::vector<state::Instance>& all);
  core::Result<bool> advance_deleting(state::Cluster& cluster, state::Instance& instance);
  // Leave an instance where it is (in service, gone, error: nothing moves it on its own).
  core::Result<bool> stay(state::Cluster& cluster, state::Instance& instance);
  // Return true once the instance has been in its state longer than the boot timeout.
  bool timed_out(const state::Instance& instance) const;

  // The bootstrap's check: the instance's page answers 200.
  core::Result<bool> health_ok(const state::Instance& instance);
  // GET `path` on the instance: return why it failed, or "" with the answer's `*status`.
  std::string http_check(const state::Instance& instance, const std::string& path,
                         int timeout_ms, int* status);
  // One in-service check: return why it failed, or "" when it passed (200-399).
  std::string in_service_check(const state::Instance& instance);
  // Check up to `times` times, interval apart, while each check passes (`passing`) or fails;
  // return the last failure's reason ("" when the last check passed).
  std::string checks_in_a_row(const state::Instance& instance, int times, bool passing);
  // Check one running in-service web instance and move it out of or back into the balancer,
  // or to error after the grace (counted in `replaced`); return true if it changed.
  // Return why `i` is not serving ("" if it is) by `times` checks in a row that all fail
  // (passing false) or all pass (passing true): sclman's HTTP probes, or the last status the
  // balancer reported when it checks its members itself.
  std::string serving_verdict(const state::Instance& i, int times, bool passing);
  core::Result<bool> check_serving(state::Cluster& cluster, state::Instance& instance,
                                   int& replaced);
  core::Result<void> count_failure(state::Cluster& cluster, state::Instance& instance,
                                   const std::string& why);
  core::Result<std::optional<state::Instance>> lb_instance(const state::Cluster& cluster);
  // Record each web instance's member status as the balancer reported it (`members`).
  core::Result<void> record_lb_status(const std::vector<state::Instance>& all,
                                      const std::vector<lb::MemberView>& members);
  // Store the cluster's rejected backends (kept out of its LB), log each as an error and each
  // that came back as info.
  core::Result<void> record_rejected(const state::Cluster& cluster,
                                     const std::vector<state::RejectedBackend>& rejected);

  state::Store& m_store;
  Drivers m_drivers;
  Options m_options;
};

// Return the cluster's live web instances (booting or in service).
int live_web(const std::vector<state::Instance>& instances);

// Return how many live web instances of `all` each availability zone holds ("" for none).
std::map<std::string, int> live_web_by_zone(const std::vector<state::Instance>& all);

// Return the zone of `zones` with the fewest live web instances of `all` (the first listed of
// those tied), "" when there are no zones: where the next web server goes.
std::string next_zone(const std::vector<std::string>& zones,
                      const std::vector<state::Instance>& all);

} // namespace engine
