// The state file: clusters, instances, load samples, decisions, the intent journal and locks.
#pragma once

#include "core/clock.hpp"
#include "core/result.hpp"
#include "policy/policy.hpp"
#include "state/model.hpp"
#include "state/db.hpp"
#include "state/location.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace state {

using core::Millis;
using core::Result;

// The text of the queries whose plans unit tests check with EXPLAIN QUERY PLAN.
namespace query {
extern const char* const k_last_raw_sample;  // Store::last_raw_sample
extern const char* const k_samples_between;  // Store::samples_between (and samples_since)
extern const char* const k_actions_since;    // Store::actions_since
} // namespace query

// The name of cluster `cluster`'s lock (Store::lock), whose number fences its journal and
// instances (check_cluster_fence).
inline std::string cluster_lock_name(std::string_view cluster)
{
  return "cluster:" + std::string(cluster);
}

// How a command uses the state file.
enum class Access {
  read_write,
  // Only reads (status, why, report): opened SQLITE_OPEN_READONLY, so that a state file on a
  // read-only file system, such as a snapshot or a read-only bind mount, can be shown. A file
  // that does not exist yet or has an older schema is opened for writing as a writing command
  // would.
  read_only,
};

class Store
{
public:
  // Open (creating with mode 0600 if needed) and migrate the state file at `path`. A file that
  // is not SQLite or has a newer schema is a state error and is left untouched.
  static Result<Store> open(const std::string& path, core::Clock& clock,
                            Access access = Access::read_write);
  // Open the state at `where`: its file, or with a url the PostgreSQL database, made or
  // migrated to this sclman's schema unless read-only at the latest one; a database with a
  // newer schema is a state error and is left untouched.
  static Result<Store> open(const Location& where, core::Clock& clock,
                            Access access = Access::read_write);

  Db& db() { return m_db; }
  // The state file (SQLite), or the file whose directory is the state directory (PostgreSQL).
  const std::string& path() const { return m_where.path; }
  const Location& location() const { return m_where; }
  Access access() const { return m_access; }
  // Return the directory that holds the state file (local instances live below it).
  std::string directory() const;
  // Return the state file's identity: a UUID made once (sql/0005), recorded by each local
  // instance directory this state makes, so that another state file in the same directory
  // never takes them for its own.
  Result<std::string> identity();

  // Clusters
  Result<std::optional<Cluster>> find_cluster(std::string_view name);
  // Return every cluster that is not deleted, by name.
  Result<std::vector<Cluster>> clusters();
  Result<std::int64_t> insert_cluster(const Cluster& c);
  Result<void> set_desired(std::int64_t cluster_id, int desired);
  Result<void> set_policy(std::int64_t cluster_id, const std::string& policy_json);
  Result<void> set_lb_port(std::int64_t cluster_id, int port);
  Result<void> set_cluster_status(std::int64_t cluster_id, ClusterStatus status);
  Result<void> set_failures(std::int64_t cluster_id, int failures);

  // Instances
  // Return the cluster's instances, oldest first; `include_gone` adds the gone ones.
  Result<std::vector<Instance>> instances(std::int64_t cluster_id, bool include_gone = false);
  // Return the names of every instance of any cluster that is not gone.
  Result<std::vector<std::string>> live_instance_names();
  // Insert a new instance with the next serial for its role, filling id, serial and name.
  Result<void> insert_instance(Instance& i, std::string_view cluster_name);
  // Write the instance's state, cloud id, address, error and times.
  Result<void> update_instance(const Instance& i);
  // Record how the balancer reports instance `instance_id` (nothing: it reports none).
  Result<void> set_lb_status(std::int64_t instance_id, std::optional<core::Operating> status);
  // Protect instance `instance_id` from scale-in, or lift the protection (sql/0013).
  Result<void> set_protected(std::int64_t instance_id, bool protect);
  // Record the LB instance's floating IP (nothing: none).
  Result<void> set_public_address(std::int64_t instance_id,
                                  const std::optional<core::IpAddress>& address);
  // Record the listener and pool ids of LB instance `instance_id` ("": none).
  Result<void> set_balancer_ids(std::int64_t instance_id, const std::string& listener,
                                const std::string& pool);
  // Move `i` to state `s` (now), and store it.
  Result<void> transition(Instance& i, InstanceState s, std::string error = {});

  // Rejected backends (store_rejected.cpp)
  // Replace the cluster's rejected backends with `rejected` (name and reason), keeping `since`
  // of those already rejected; a name no longer listed is back in the LB and loses its row.
  Result<void> replace_rejected(std::int64_t cluster_id,
                                const std::vector<RejectedBackend>& rejected);
  // Return the cluster's rejected backends, by name.
  Result<std::vector<RejectedBackend>> rejected(std::int64_t cluster_id);

  // Scale-in victims (store_victims.cpp)
  // Record that drain_excess chose `v.instance` (ts: now).
  Result<void> insert_victim(std::int64_t cluster_id, VictimRow v);
  // Return the cluster's `limit` newest victims, newest first. A row whose instance name or
  // victim policy this sclman would not write is a state error.
  Result<std::vector<VictimRow>> victims(std::int64_t cluster_id, int limit);

  // Rollouts (store_rollouts.cpp)
  // Start rollout `r` of its cluster, in one transaction: its last_old_serial and total are the
  // cluster's web instances now, and the cluster's image and flavor become r.to_image and
  // r.to_flavor; r.id and r.started_at are set. A usage error if one is running already.
  Result<void> start_rollout(Rollout& r);
  // Return the cluster's running rollout, or nothing.
  Result<std::optional<Rollout>> running_rollout(std::int64_t cluster_id);
  // Return the cluster's latest rollout (running or ended), or nothing.
  Result<std::optional<Rollout>> last_rollout(std::int64_t cluster_id);
  // Store a running rollout's progress (batches, surge, batch times).
  Result<void> update_rollout(const Rollout& r);
  // End running rollout `r` with `status` (not running) and `error`, now; failed or cancelled
  // give the cluster its from_image and from_flavor back, in the same transaction.
  Result<void> end_rollout(Rollout& r, RolloutStatus status, std::string error = {});

  // Load samples
  Result<void> insert_samples(const std::vector<Sample>& samples);
  // Return the newest sample of the instance that has a raw counter.
  Result<std::optional<Sample>> last_raw_sample(std::int64_t instance_id);
  // Return the cluster's samples with ts >= since, oldest first (uses the (cluster, ts) index).
  Result<std::vector<Sample>> samples_since(std::int64_t cluster_id, Millis since);
  // Return the cluster's samples with from <= ts <= to, oldest first (the same index).
  Result<std::vector<Sample>> samples_between(std::int64_t cluster_id, Millis from, Millis to);
  // Delete samples older than `before`; return how many.
  Result<int> prune_samples(Millis before);

  // Decisions
  Result<std::int64_t> insert_decision(const DecisionRow& d);
  // Return the newest pending decision of the cluster.
  Result<std::optional<DecisionRow>> pending_decision(std::int64_t cluster_id);
  Result<void> set_decision_status(std::int64_t id, DecisionStatus status);
  // Mark every pending decision of the cluster superseded (a newer one replaces them).
  Result<void> supersede_pending(std::int64_t cluster_id);
  // Return the newest `limit` decisions of the cluster, newest first.
  Result<std::vector<DecisionRow>> decisions(std::int64_t cluster_id, int limit);
  // Return actions carried out since `since`, oldest first.
  Result<std::vector<policy::PastAction>> actions_since(std::int64_t cluster_id, Millis since);
  // Expire pending decisions older than `before`; return how many.
  Result<int> expire_decisions(Millis before);
  // Delete hold decisions, and scale-in victims, older than `before`; return how many decisions.
  Result<int> prune_decisions(Millis before);

  // Journal (store_journal.cpp, with the counters and runs): write the intent before a side
  // effect, finish it after.
  Result<std::int64_t> begin_intent(std::string_view cluster,
                                    std::string_view instance,
                                    std::string_view op,
                                    std::string_view detail = {});
  Result<void> finish_intent(std::int64_t id, bool ok, std::string_view outcome = {});
  // Mark the cluster's pending intents (left by a run that died) interrupted; return them.
  Result<std::vector<JournalEntry>> interrupt_pending(std::string_view cluster);

  // API tokens and the audit log of sclman serve (store_serve.cpp)
  // Store token `t` (its id and created_at are set); a usage error if its name is taken.
  Result<void> insert_token(Token& t);
  // Return every token, revoked ones too, by name. A row whose name, role or hash this sclman
  // would not write is a state error.
  Result<std::vector<Token>> tokens();
  // Return the valid (not revoked) token whose hash is `hash`, or nothing.
  Result<std::optional<Token>> token_by_hash(std::string_view hash);
  // Revoke token `name` now; return false if it was revoked already, a usage error if there is
  // no such token.
  Result<bool> revoke_token(std::string_view name);
  // Append `row` (ts: now) to the audit log.
  Result<void> insert_audit(const AuditRow& row);
  // Return the newest `limit` audit rows, newest first.
  Result<std::vector<AuditRow>> audit(int limit);

  // Webhook receivers, their deliveries and the holds they make (store_receivers.cpp)
  // Store receiver `r` (id and created_at set); a usage error if its name is taken.
  Result<void> insert_receiver(Receiver& r);
  // Return the receivers not deleted, by name; a row this sclman would not write is a state
  // error.
  Result<std::vector<Receiver>> receivers();
  // Return the receiver named `name` that is not deleted, or nothing.
  Result<std::optional<Receiver>> find_receiver(std::string_view name);
  // Delete receiver `name` (its token stops working); a usage error if there is none.
  Result<void> delete_receiver(std::string_view name);
  // Record that receiver `receiver_id` took the delivery `key` with `outcome`; return false,
  // storing nothing, if it took that key before. An empty key records a request: its key is
  // made unique ('#...'), and requests_since counts it.
  Result<bool> record_delivery(std::int64_t receiver_id, std::string_view key,
                               std::string_view outcome);
  // Return how many requests receiver `receiver_id` took since `since`.
  Result<int> requests_since(std::int64_t receiver_id, Millis since);
  // Store hold `h` (id and created_at set).
  Result<void> insert_hold(Hold& h);
  // End the cluster's active holds from `source` with key `key`; return how many.
  Result<int> end_holds(std::int64_t cluster_id, std::string_view source, std::string_view key);
  // Return the cluster's holds active at `at` (not ended, until after `at`), oldest first.
  Result<std::vector<Hold>> active_holds(std::int64_t cluster_id, Millis at);
  // Delete deliveries and audit rows older than `before`, and holds that ended or ran out
  // before it; return how many rows (gc, with man_retention_days).
  Result<int> prune_serve(Millis before);

  // Run metrics
  // Add `by` to the counter `name` with rendered `labels`.
  Result<void> bump_counter(std::string_view name, std::string_view labels, std::int64_t by = 1);
  Result<std::vector<Counter>> counters();
  // Store how the last run of `command` ended.
  Result<void> record_run(const RunRecord& run);
  Result<std::vector<RunRecord>> runs();

  // Locks
  // Take the lock named `name` for this process, or fail with kind busy naming the holder.
  // A lock whose holder process is gone (same host) or is older than `stale_after` is taken over.
  // Each taking gets the next fencing number of `name` (returned; sql/0024): while this store
  // holds the lock "cluster:NAME", its begin_intent for NAME and update_instance of NAME's
  // instances are refused (busy) once the lock's row shows another number, that is once another
  // run took the lock over, as it does when this one was stopped past `stale_after`.
  Result<std::int64_t> lock(const std::string& name, Millis stale_after);
  // Take each lock of `names` as lock does, all in one transaction (one commit, where each
  // lock on its own is one): each one's number, or busy naming its holder. An error of the
  // database fails the whole call, and then none is taken.
  Result<std::vector<Result<std::int64_t>>> lock_many(const std::vector<std::string>& names,
                                                      Millis stale_after);
  // Release the lock if this process holds it (with this store's number).
  void unlock(const std::string& name);
  // Release each lock of `names` this process holds, in one transaction.
  void unlock_many(const std::vector<std::string>& names);
  // Right before an action on the cloud for cluster `cluster`: fail (busy, naming the new
  // holder) if this store held the cluster's lock and another run has taken it over since.
  Result<void> check_cluster_fence(const std::string& cluster);

  // Ticks shared by hosts (sql/0025)
  // This host's name in tick claims: the host name and the absolute state directory, so that
  // two sclman installations on one machine are two hosts.
  std::string host_id() const;
  // For each (cluster, take) of `clusters`, in one transaction: with `take`, claim the cluster
  // for tick `slot` for host `host`, unless a host has claimed it for this slot or a later one.
  // Return each cluster's claim as it stands, in order (this one when it won or was this
  // host's already; nothing when it has none).
  Result<std::vector<std::optional<TickClaim>>>
  claim_ticks(const std::vector<std::pair<std::string, bool>>& clusters, std::int64_t slot,
              const std::string& host);
  // Note that host `host` runs the chain now; return the hosts seen at `since` or later (with
  // `host`), sorted.
  Result<std::vector<std::string>> tick_hosts(const std::string& host, Millis since);
  // Delete the tick claims of clusters that are gone (deleted or no longer in the state) and
  // the hosts not seen since `hosts_before`; return how many rows.
  Result<std::int64_t> prune_tick_claims(Millis hosts_before);

  Millis now() const { return m_clock->now(); }
  // Return the clock the store dates its rows with (the engine's waits go through it too).
  core::Clock& clock() const { return *m_clock; }

private:
  Store(Db db, Location where, core::Clock& clock, Access access)
    : m_db(std::move(db)), m_where(std::move(where)), m_clock(&clock), m_access(access)
  {
  }
  // One lock taken in lock_many's transaction: its number, or the error naming its holder.
  struct LockTake
  {
    std::int64_t fence = 0;
    std::optional<core::Error> held;
  };
  // take_lock's statements, prepared once for all the locks of a lock_many.
  struct LockStmts;
  // In the open transaction: take lock `name` for process `me` of `host`, unless another live
  // run holds it (LockTake::held).
  Result<LockTake> take_lock(LockStmts& stmts, const std::string& name, Millis stale_after,
                             std::int64_t me, const std::string& host);
  // Release each lock of `names` this store holds (in the open transaction, if any).
  void release_locks(const std::vector<std::string>& names);
  // Fail (busy) if this store holds lock `name` and the lock's row no longer shows its
  // fencing number; nothing if it does not hold it. Run inside the write's transaction.
  Result<void> check_fence(const std::string& name);
  // Before a write fenced by lock `name` ("": none): when this store holds it, check the fence
  // under the write lock, in the transaction returned (nothing when one is open already, or
  // when the store does not hold it); the caller commits it after the write.
  Result<std::optional<Transaction>> fenced(const std::string& name);
  // Return the name of the lock of cluster `cluster_id` if this store holds it, else "".
  Result<std::string> held_cluster_lock(std::int64_t cluster_id);

  Db m_db;
  Location m_where;
  std::map<std::string, std::int64_t> m_fences;  // the locks this store holds, and their numbers
  core::Clock* m_clock;
  Access m_access;
};

// RAII holder of several Store locks, released together (Store::unlock_many).
class LockSet
{
public:
  explicit LockSet(Store& store) : m_store(&store) {}
  LockSet(LockSet&& o) noexcept : m_store(o.m_store), m_names(std::move(o.m_names))
  {
    o.m_names.clear();
  }
  LockSet& operator=(LockSet&&) = delete;
  ~LockSet() { release(); }

  // Hold lock `name`, taken already.
  void add(std::string name) { m_names.push_back(std::move(name)); }
  std::size_t size() const { return m_names.size(); }
  void release()
  {
    m_store->unlock_many(m_names);
    m_names.clear();
  }

private:
  Store* m_store;
  std::vector<std::string> m_names;
};

// RAII holder of a Store lock.
class LockGuard
{
public:
  LockGuard(Store& store, std::string name) : m_store(&store), m_name(std::move(name)) {}
  LockGuard(LockGuard&& o) noexcept : m_store(o.m_store), m_name(std::move(o.m_name))
  {
    o.m_store = nullptr;
  }
  LockGuard& operator=(LockGuard&&) = delete;
  ~LockGuard()
  {
    if (m_store) {
      m_store->unlock(m_name);
    }
  }

private:
  Store* m_store;
  std::string m_name;
};

} // namespace state
