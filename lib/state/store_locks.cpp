// Store's cluster locks: a row per lock naming its holder (pid and host); a holder gone from
// this host, or older than the staleness bound, is taken over.
#include "state/db.hpp"
#include "state/store.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <csignal>
#include <unistd.h>

namespace state {

using core::ErrorKind;
using core::fail;

namespace {

std::string hostname()
{
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) {
    return "unknown";
  }
  return buf;
}

bool process_alive(std::int64_t pid)
{
  if (pid <= 0) {
    return false;
  }
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

constexpr const char* k_release_lock =
  "DELETE FROM locks WHERE name = ? AND pid = ? AND host = ? AND fence = ?";

} // namespace

struct Store::LockStmts
{
  static Result<LockStmts> prepare(const Db& db)
  {
    TRY_ASSIGN(auto read, Stmt::prepare(db, "SELECT pid, host, acquired_at, fence FROM locks "
                                            "WHERE name = ?"));
    TRY_ASSIGN(auto next, Stmt::prepare(db, "INSERT INTO lock_fences (name, fence) VALUES "
                                            "(?, 1) ON CONFLICT (name) DO UPDATE SET fence = "
                                            "lock_fences.fence + 1"));
    TRY_ASSIGN(auto fence, Stmt::prepare(db, "SELECT fence FROM lock_fences WHERE name = ?"));
    TRY_ASSIGN(auto write,
               Stmt::prepare(db,
                             "INSERT INTO locks (name, pid, host, acquired_at, fence) VALUES "
                             "(?,?,?,?,?) ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, "
                             "host = excluded.host, acquired_at = excluded.acquired_at, "
                             "fence = excluded.fence"));
    return LockStmts{std::move(read), std::move(next), std::move(fence), std::move(write)};
  }

  Stmt read;   // the lock's row
  Stmt next;   // the next fencing number of the name
  Stmt fence;  // read it back
  Stmt write;  // the lock's row, taken
};

Result<Store::LockTake> Store::take_lock(LockStmts& st, const std::string& name,
                                         Millis stale_after, std::int64_t me,
                                         const std::string& host)
{
  // Each statement is reset after its use, so none holds a row into the next lock's turn or
  // the commit.
  st.read.bind(1, name);
  TRY_ASSIGN(const bool row, st.read.step());
  const auto pid = row ? st.read.column_int(0) : 0;
  const auto holder_host = row ? st.read.column_text(1) : std::string();
  const auto since = row ? st.read.column_int(2) : 0;
  const auto fence = row ? st.read.column_int(3) : 0;
  st.read.reset();
  std::optional<std::int64_t> kept;
  if (row) {
    const bool mine = pid == me && holder_host == host;
    const bool alive = holder_host == host ? process_alive(pid) : true;
    const bool stale = now() - since > stale_after;
    if (!mine && alive && !stale) {
      LockTake held;
      held.held = core::make_error(ErrorKind::busy,
                                   fmt::format("cluster lock '{}' is held by pid {} on host '{}'",
                                               name, pid, holder_host));
      return held;
    }
    // This store taking its own lock again keeps its number; anyone else gets the next one.
    if (const auto held = m_fences.find(name);
        mine && held != m_fences.end() && held->second == fence) {
      kept = held->second;
    }
  }
  LockTake taken;
  if (kept) {
    taken.fence = *kept;
  } else {
    st.next.bind(1, name);
    TRY(st.next.run());
    st.next.reset();
    st.fence.bind(1, name);
    TRY(st.fence.step());
    taken.fence = st.fence.column_int(0);
    st.fence.reset();
  }
  st.write.bind(1, name).bind(2, me).bind(3, host).bind(4, now()).bind(5, taken.fence);
  TRY(st.write.run());
  st.write.reset();
  return taken;
}

Result<std::int64_t> Store::lock(const std::string& name, Millis stale_after)
{
  TRY_ASSIGN(auto taken, lock_many({name}, stale_after));
  return std::move(taken.front());
}

Result<std::vector<Result<std::int64_t>>> Store::lock_many(const std::vector<std::string>& names,
                                                           Millis stale_after)
{
  const auto me = static_cast<std::int64_t>(getpid());
  const auto host = hostname();
  std::vector<LockTake> takes;
  takes.reserve(names.size());
  TRY_ASSIGN(auto tx, Transaction::begin(m_db));
  TRY_ASSIGN(auto stmts, LockStmts::prepare(m_db));
  for (const auto& name : names) {
    TRY_ASSIGN(auto take, take_lock(stmts, name, stale_after, me, host));
    takes.push_back(std::move(take));
  }
  TRY(tx.commit());
  std::vector<Result<std::int64_t>> fences;
  fences.reserve(names.size());
  for (std::size_t k = 0; k < names.size(); ++k) {
    if (takes[k].held) {
      fences.emplace_back(tl::make_unexpected(std::move(*takes[k].held)));
      continue;
    }
    m_fences[names[k]] = takes[k].fence;
    fences.emplace_back(takes[k].fence);
  }
  return fences;
}

void Store::release_locks(const std::vector<std::string>& names)
{
  std::optional<Stmt> del;  // prepared once, for the first lock this store holds
  std::string host;
  for (const auto& name : names) {
    const auto held = m_fences.find(name);
    if (held == m_fences.end()) {
      continue;
    }
    const auto fence = held->second;
    m_fences.erase(held);
    if (!del) {
      auto prepared = Stmt::prepare(m_db, k_release_lock);
      if (!prepared) {
        continue;  // forgotten here; its row goes stale and is taken over
      }
      del.emplace(std::move(*prepared));
      host = hostname();
    }
    del->bind(1, name).bind(2, static_cast<std::int64_t>(getpid())).bind(3, host).bind(4, fence);
    (void)del->run();
    del->reset();
  }
}

void Store::unlock(const std::string& name)
{
  release_locks({name});
}

void Store::unlock_many(const std::vector<std::string>& names)
{
  if (names.empty()) {
    return;
  }
  // One transaction when none is open (one commit, where each DELETE would be one); without
  // it, each lock goes on its own as unlock does.
  std::optional<Transaction> tx;
  if (!m_db.in_transaction()) {
    if (auto begun = Transaction::begin(m_db)) {
      tx.emplace(std::move(*begun));
    }
  }
  release_locks(names);
  if (tx) {
    (void)tx->commit();
  }
}

std::string Store::host_id() const
{
  return hostname() + ":" + directory();
}

Result<std::vector<std::optional<TickClaim>>>
Store::claim_ticks(const std::vector<std::pair<std::string, bool>>& clusters, std::int64_t slot,
                   const std::string& host)
{
  TRY_ASSIGN(auto tx, Transaction::begin(m_db));
  // The row moves on to a later slot only: a host late for a slot another one has moved past
  // finds the later one and skips.
  TRY_ASSIGN(auto claim,
             Stmt::prepare(m_db, "INSERT INTO tick_claims (cluster, slot, host, claimed_at) "
                                 "VALUES (?, ?, ?, ?) ON CONFLICT (cluster) DO UPDATE SET slot "
                                 "= excluded.slot, host = excluded.host, claimed_at = "
                                 "excluded.claimed_at WHERE tick_claims.slot < excluded.slot"));
  TRY_ASSIGN(auto read, Stmt::prepare(m_db, "SELECT slot, host FROM tick_claims WHERE "
                                            "cluster = ?"));
  std::vector<std::optional<TickClaim>> held;
  held.reserve(clusters.size());
  for (const auto& [cluster, take] : clusters) {
    if (take) {
      claim.bind(1, cluster).bind(2, slot).bind(3, host).bind(4, now());
      TRY(claim.run());
      claim.reset();
    }
    read.bind(1, cluster);
    TRY_ASSIGN(const bool row, read.step());
    held.emplace_back();
    if (row) {
      held.back() = TickClaim{read.column_int(0), read.column_text(1)};
    }
    read.reset();
  }
  TRY(tx.commit());
  return held;
}

Result<std::vector<std::string>> Store::tick_hosts(const std::string& host, Millis since)
{
  TRY_ASSIGN(auto tx, Transaction::begin(m_db));
  TRY_ASSIGN(auto seen, Stmt::prepare(m_db, "INSERT INTO tick_hosts (host, seen_at) VALUES (?, ?) "
                                            "ON CONFLICT (host) DO UPDATE SET seen_at = "
                                            "excluded.seen_at"));
  seen.bind(1, host).bind(2, now());
  TRY(seen.run());
  TRY_ASSIGN(auto q, Stmt::prepare(m_db, "SELECT host FROM tick_hosts WHERE seen_at >= ? ORDER "
                                         "BY host"));
  q.bind(1, since);
  std::vector<std::string> hosts;
  for (;;) {
    TRY_ASSIGN(const bool row, q.step());
    if (!row) {
      break;
    }
    hosts.push_back(q.column_text(0));
  }
  q.reset();
  TRY(tx.commit());
  return hosts;
}

Result<std::int64_t> Store::prune_tick_claims(Millis hosts_before)
{
  TRY_ASSIGN(auto tx, Transaction::begin(m_db));
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "DELETE FROM tick_claims WHERE cluster NOT IN (SELECT "
                                         "name FROM clusters WHERE status != 'deleted')"));
  TRY(s.run());
  std::int64_t pruned = m_db.changes();
  TRY_ASSIGN(auto h, Stmt::prepare(m_db, "DELETE FROM tick_hosts WHERE seen_at < ?"));
  h.bind(1, hosts_before);
  TRY(h.run());
  pruned += m_db.changes();
  TRY(tx.commit());
  return pruned;
}

Result<void> Store::check_cluster_fence(const std::string& cluster)
{
  return check_fence(cluster_lock_name(cluster));
}

Result<void> Store::check_fence(const std::string& name)
{
  const auto held = m_fences.find(name);
  if (held == m_fences.end()) {
    return {};
  }
  TRY_ASSIGN(auto q, Stmt::prepare(m_db, "SELECT pid, host, fence FROM locks WHERE name = ?"));
  q.bind(1, name);
  TRY_ASSIGN(const bool row, q.step());
  if (row && q.column_int(2) == held->second) {
    return {};
  }
  const auto by = row ? fmt::format("pid {} on host '{}' with fencing number {}",
                                    q.column_int(0), q.column_text(1), q.column_int(2))
                      : std::string("nobody (released)");
  return fail(ErrorKind::busy,
              fmt::format("cluster lock '{}' was taken over by {} while this run (fencing "
                          "number {}) held it: this run's writes for it are refused",
                          name, by, held->second));
}

Result<std::optional<Transaction>> Store::fenced(const std::string& name)
{
  std::optional<Transaction> tx;
  if (!m_fences.count(name)) {
    return tx;
  }
  if (!m_db.in_transaction()) {
    TRY_ASSIGN(auto begun, Transaction::begin(m_db));
    tx.emplace(std::move(begun));
  }
  TRY(check_fence(name));
  return tx;
}

Result<std::string> Store::held_cluster_lock(std::int64_t cluster_id)
{
  if (m_fences.empty()) {
    return std::string();
  }
  TRY_ASSIGN(auto q, Stmt::prepare(m_db, "SELECT name FROM clusters WHERE id = ?"));
  q.bind(1, cluster_id);
  TRY_ASSIGN(const bool row, q.step());
  if (!row) {
    return std::string();
  }
  auto name = cluster_lock_name(q.column_text(0));
  return m_fences.count(name) ? name : std::string();
}

} // namespace state
