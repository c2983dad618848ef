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

} // namespace

Result<void> Store::lock(const std::string& name, Millis stale_after)
{
  const auto me = static_cast<std::int64_t>(getpid());
  const auto host = hostname();
  TRY_ASSIGN(auto tx, Transaction::begin(m_db));
  TRY_ASSIGN(auto q, Stmt::prepare(m_db, "SELECT pid, host, acquired_at FROM locks WHERE name = ?"));
  q.bind(1, name);
  TRY_ASSIGN(const bool row, q.step());
  if (row) {
    const auto pid = q.column_int(0);
    const auto holder_host = q.column_text(1);
    const auto since = q.column_int(2);
    const bool mine = pid == me && holder_host == host;
    const bool alive = holder_host == host ? process_alive(pid) : true;
    const bool stale = now() - since > stale_after;
    if (!mine && alive && !stale) {
      return fail(ErrorKind::busy,
                  fmt::format("cluster lock '{}' is held by pid {} on host '{}'",
                              name,
                              pid,
                              holder_host));
    }
  }
  TRY_ASSIGN(auto w,
             Stmt::prepare(m_db,
                           "INSERT INTO locks (name, pid, host, acquired_at) VALUES (?,?,?,?) "
                           "ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, host = "
                           "excluded.host, acquired_at = excluded.acquired_at"));
  w.bind(1, name).bind(2, me).bind(3, host).bind(4, now());
  TRY(w.run());
  return tx.commit();
}

void Store::unlock(const std::string& name)
{
  auto s = Stmt::prepare(m_db, "DELETE FROM locks WHERE name = ? AND pid = ? AND host = ?");
  if (s) {
    s->bind(1, name).bind(2, static_cast<std::int64_t>(getpid())).bind(3, hostname());
    (void)s->run();
  }
}

} // namespace state
