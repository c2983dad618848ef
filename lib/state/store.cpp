#include "state/store.hpp"

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/names.hpp"
#include "state/migrate.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <limits>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

namespace state {

namespace fs = std::filesystem;
using core::ErrorKind;
using core::fail;

namespace {

// Return nothing if `path` is absent, empty, or starts with the SQLite header.
// Return the value `parse` makes of column `column` of row `id` in `table`; a text it does not
// know is a state error naming them (the state file is not trusted).
template <typename Parse>
auto parse_column(const Stmt& s, int column, const char* table, std::int64_t id,
                  const char* name, Parse parse) -> Result<typename decltype(parse(""))::value_type>
{
  const auto text = s.column_text(column);
  auto value = parse(text);
  if (!value) {
    return fail(ErrorKind::state, fmt::format("table '{}' row {} has unknown {} '{}'", table, id,
                                              name, text));
  }
  return *value;
}

// Return the name in column `column` of row `id` in `table` if `validate` (the parser of names
// from the command line) accepts it; else a state error naming them. A name builds paths and
// config: "../../etc" must never reach them from a corrupted or hostile file.
Result<std::string> parse_name_column(const Stmt& s, int column, const char* table,
                                      std::int64_t id,
                                      core::Result<void> (*validate)(std::string_view))
{
  auto text = s.column_text(column);
  if (auto valid = validate(text); !valid) {
    return fail(ErrorKind::state,
                fmt::format("table '{}' row {} has an {}", table, id, valid.error().message));
  }
  return text;
}

// Check the image and flavor of row `id` of `table`: printable ASCII (what core::printable
// keeps as it is), at most 255 bytes each.
Result<void> check_image_flavor(const char* table, std::int64_t id, const std::string& image,
                                const std::string& flavor)
{
  for (const auto& [name, value] : {std::pair{"image", &image}, {"flavor", &flavor}}) {
    if (!core::is_printable(*value, 255)) {
      return fail(ErrorKind::state,
                  fmt::format("table '{}' row {} has {} '{}': not printable text of at most 255 "
                              "bytes",
                              table, id, name, core::printable(*value, 40)));
    }
  }
  return {};
}

Result<Cluster> read_cluster(const Stmt& s)
{
  Cluster c;
  c.id = s.column_int(0);
  TRY_ASSIGN(c.name, parse_name_column(s, 1, "clusters", c.id, core::validate_cluster_name));
  c.provider = s.column_text(2);
  c.bootstrapper = s.column_text(3);
  c.balancer = s.column_text(4);
  c.metrics = s.column_text(5);
  c.flavor = s.column_text(6);
  c.image = s.column_text(7);
  // Sent to the cloud to create servers (as a query parameter or a JSON string, never pasted),
  // given to rollouts.
  TRY(check_image_flavor("clusters", c.id, c.image, c.flavor));
  c.network = s.column_text(8);
  c.policy = s.column_text(9);
  c.desired = static_cast<int>(s.column_int(10));
  if (auto p = s.column_opt_int(11)) {
    if (*p < 1 || *p > 65535) {
      return fail(ErrorKind::state, fmt::format("table 'clusters' row {} has lb_port {}, not "
                                                "an integer from 1 to 65535",
                                                c.id, *p));
    }
    c.lb_port = static_cast<int>(*p);
  }
  TRY_ASSIGN(c.status, parse_column(s, 12, "clusters", c.id, "status", parse_cluster_status));
  c.failures = static_cast<int>(s.column_int(13));
  c.created_at = s.column_int(14);
  c.cloud_auth_url = s.column_text(15);
  c.cloud_project = s.column_text(16);
  if (const auto listen = s.column_text(17); !listen.empty()) {
    auto ip = core::IpAddress::parse(listen);
    if (!ip) {
      return fail(ErrorKind::state, fmt::format("table 'clusters' row {} has lb_listen {}",
                                                c.id, ip.error().message));
    }
    c.lb_listen = *ip;
  }
  c.health = s.column_text(18);
  if (auto h = core::health_over({}, c.health); !h) {
    return fail(ErrorKind::state,
                fmt::format("table 'clusters' row {} has {}", c.id, h.error().message));
  }
  c.floating_network = s.column_text(19);
  if (!core::is_printable(c.floating_network, 255)) {
    return fail(ErrorKind::state,
                fmt::format("table 'clusters' row {} has floating_network '{}': not printable "
                            "text of at most 255 bytes",
                            c.id, core::printable(c.floating_network, 40)));
  }
  c.server_group = s.column_text(20);
  if (!c.server_group.empty() && c.server_group != "anti-affinity"
      && c.server_group != "soft-anti-affinity") {
    return fail(ErrorKind::state,
                fmt::format("table 'clusters' row {} has server_group '{}': expected '', "
                            "anti-affinity or soft-anti-affinity",
                            c.id, core::printable(c.server_group, 40)));
  }
  auto zones = core::parse_zone_list(s.column_text(21));
  if (!zones) {
    return fail(ErrorKind::state,
                fmt::format("table 'clusters' row {} has {}", c.id, zones.error().message));
  }
  c.availability_zones = std::move(*zones);
  return c;
}

constexpr const char* k_cluster_columns =
  "id, name, provider, bootstrapper, balancer, metrics, flavor, image, network, policy, desired, "
  "lb_port, status, failures, created_at, cloud_auth_url, cloud_project, lb_listen, health, "
  "floating_network, server_group, availability_zones";

constexpr const char* k_instance_columns =
  "id, cluster_id, role, serial, name, cloud_id, address, state, error, created_at, state_since, "
  "in_service_since, unhealthy_since, lb_status, lb_listener_id, lb_pool_id, protected, image, "
  "flavor, connections, connections_at, public_address, availability_zone, server_group";

Result<Instance> read_instance(const Stmt& s)
{
  Instance i;
  i.id = s.column_int(0);
  i.cluster_id = s.column_int(1);
  TRY_ASSIGN(i.role, parse_column(s, 2, "instances", i.id, "role", parse_role));
  i.serial = static_cast<long>(s.column_int(3));
  TRY_ASSIGN(i.name, parse_name_column(s, 4, "instances", i.id, core::validate_instance_name));
  i.cloud_id = s.column_text(5);
  i.address = s.column_text(6);
  TRY_ASSIGN(i.state, parse_column(s, 7, "instances", i.id, "state", parse_instance_state));
  i.error = s.column_text(8);
  i.created_at = s.column_int(9);
  i.state_since = s.column_int(10);
  i.in_service_since = s.column_opt_int(11);
  i.unhealthy_since = s.column_opt_int(12);
  if (i.unhealthy_since && (*i.unhealthy_since <= 0 || i.state != InstanceState::in_service)) {
    return fail(ErrorKind::state,
                fmt::format("table 'instances' row {} has unhealthy_since {} in state {}", i.id,
                            *i.unhealthy_since, to_string(i.state)));
  }
  if (!s.column_is_null(13)) {
    TRY_ASSIGN(i.lb_status,
               parse_column(s, 13, "instances", i.id, "lb_status", core::parse_operating));
  }
  for (const auto& [column, name, field] :
       {std::tuple{14, "lb_listener_id", &i.lb_listener_id},
        std::tuple{15, "lb_pool_id", &i.lb_pool_id}}) {
    if (s.column_is_null(column)) {
      continue;
    }
    *field = s.column_text(column);
    if (auto ok = core::validate_object_id(*field); !ok) {
      return fail(ErrorKind::state, fmt::format("table 'instances' row {} has {}: {}", i.id, name,
                                                ok.error().message));
    }
  }
  // As text: SQLite would read 'yes' or 1.5 as an integer without a word.
  const auto protected_flag = s.column_text(16);
  if (protected_flag != "0" && protected_flag != "1") {
    return fail(ErrorKind::state,
                fmt::format("table 'instances' row {} has protected '{}': expected 0 or 1", i.id,
                            core::printable(protected_flag, 40)));
  }
  i.protected_from_scale_in = protected_flag == "1";
  i.image = s.column_text(17);
  i.flavor = s.column_text(18);
  // Shown by status and compared, never sent.
  TRY(check_image_flavor("instances", i.id, i.image, i.flavor));
  if (!s.column_is_null(19)) {
    // As text, for the reason above; a count no status page gives is a corrupted row.
    auto n = core::parse_int_in(s.column_text(19), 0, std::numeric_limits<int>::max());
    if (!n) {
      return fail(ErrorKind::state, fmt::format("table 'instances' row {} has connections: {}",
                                                i.id, n.error().message));
    }
    i.connections = *n;
    i.connections_at = s.column_opt_int(20);
  }
  if (!s.column_is_null(21)) {
    auto ip = core::IpAddress::parse(s.column_text(21));
    if (!ip) {
      return fail(ErrorKind::state, fmt::format("table 'instances' row {} has public_address {}",
                                                i.id, ip.error().message));
    }
    i.public_address = *ip;
  }
  i.availability_zone = s.column_text(22);
  i.server_group = s.column_text(23);
  for (const auto& [name, value] :
       {std::pair{"availability_zone", &i.availability_zone}, {"server_group", &i.server_group}}) {
    if (!core::is_printable(*value, 255)) {
      return fail(ErrorKind::state,
                  fmt::format("table 'instances' row {} has {} '{}': not printable text of at "
                              "most 255 bytes",
                              i.id, name, core::printable(*value, 40)));
    }
  }
  return i;
}

Result<DecisionRow> read_decision(const Stmt& s)
{
  DecisionRow d;
  d.id = s.column_int(0);
  d.cluster_id = s.column_int(1);
  d.ts = s.column_int(2);
  TRY_ASSIGN(d.action, parse_column(s, 3, "decisions", d.id, "action", parse_decision_action));
  d.from_size = static_cast<int>(s.column_int(4));
  d.to_size = static_cast<int>(s.column_int(5));
  d.reason = s.column_text(6);
  d.inputs = s.column_text(7);
  TRY_ASSIGN(d.status, parse_column(s, 8, "decisions", d.id, "status", parse_decision_status));
  d.done_at = s.column_opt_int(9);
  d.explanation = s.column_text(10);
  d.error = s.column_text(11);
  TRY_ASSIGN(d.source, parse_column(s, 12, "decisions", d.id, "source", parse_decision_source));
  return d;
}

// A load_samples row as query::k_last_raw_sample and k_samples_between select it.
Result<Sample> read_sample(const Stmt& s)
{
  Sample out{s.column_int(0), s.column_int(1), s.column_int(2), s.column_opt_double(3),
             s.column_opt_int(4)};
  if (!s.column_is_null(5)) {
    TRY_ASSIGN(out.missing, parse_column(s, 5, "load_samples", out.instance_id, "missing",
                                         policy::missing_named));
  }
  return out;
}

constexpr const char* k_decision_columns =
  "id, cluster_id, ts, action, from_size, to_size, reason, inputs, status, done_at, explanation, "
  "error, source";

} // namespace

namespace query {
const char* const k_last_raw_sample =
  "SELECT instance_id, cluster_id, ts, value, raw, missing FROM load_samples "
  "WHERE instance_id = ? AND raw IS NOT NULL ORDER BY ts DESC LIMIT 1";
const char* const k_samples_between =
  "SELECT instance_id, cluster_id, ts, value, raw, missing FROM load_samples "
  "WHERE cluster_id = ? AND ts BETWEEN ? AND ? ORDER BY ts, instance_id";
const char* const k_actions_since =
  "SELECT done_at, from_size, to_size FROM decisions WHERE cluster_id "
  "= ? AND status = 'done' AND done_at >= ? ORDER BY done_at";
} // namespace query

Result<std::optional<Cluster>> Store::find_cluster(std::string_view name)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           fmt::format("SELECT {} FROM clusters WHERE name = ? AND status != "
                                       "'deleted'",
                                       k_cluster_columns)));
  s.bind(1, name);
  TRY_ASSIGN(const bool row, s.step());
  if (!row) {
    return std::optional<Cluster>{};
  }
  TRY_ASSIGN(auto c, read_cluster(s));
  return std::optional<Cluster>{std::move(c)};
}

Result<std::vector<Cluster>> Store::clusters()
{
  TRY_ASSIGN(
    auto s,
    Stmt::prepare(
      m_db,
      fmt::format("SELECT {} FROM clusters WHERE status != 'deleted' ORDER BY name",
                  k_cluster_columns)));
  std::vector<Cluster> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      break;
    }
    TRY_ASSIGN(auto c, read_cluster(s));
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::int64_t> Store::insert_cluster(const Cluster& c)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "INSERT INTO clusters (name, provider, bootstrapper, balancer, "
                           "metrics, flavor, image, network, policy, desired, lb_port, status, "
                           "created_at, cloud_auth_url, cloud_project, lb_listen, health, "
                           "floating_network, server_group, availability_zones) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  s.bind(1, c.name)
    .bind(2, c.provider)
    .bind(3, c.bootstrapper)
    .bind(4, c.balancer)
    .bind(5, c.metrics)
    .bind(6, c.flavor)
    .bind(7, c.image)
    .bind(8, c.network)
    .bind(9, c.policy)
    .bind(10, c.desired)
    .bind(11, c.lb_port)
    .bind(12, to_string(c.status))
    .bind(13, now())
    .bind(14, c.cloud_auth_url)
    .bind(15, c.cloud_project)
    .bind(16, c.lb_listen ? c.lb_listen->to_string() : std::string())
    .bind(17, c.health)
    .bind(18, c.floating_network)
    .bind(19, c.server_group)
    .bind(20, core::zone_list_text(c.availability_zones));
  TRY(s.run());
  return m_db.last_insert_id();
}

namespace {

Result<void> update_cluster_column(Db& db, const char* column, std::int64_t id, auto value)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(db, fmt::format("UPDATE clusters SET {} = ? WHERE id = ?", column)));
  s.bind(1, value).bind(2, id);
  return s.run();
}

} // namespace

Result<void> Store::set_desired(std::int64_t cluster_id, int desired)
{
  return update_cluster_column(m_db, "desired", cluster_id, desired);
}

Result<void> Store::set_policy(std::int64_t cluster_id, const std::string& policy_json)
{
  return update_cluster_column(m_db, "policy", cluster_id, policy_json);
}

Result<void> Store::set_lb_port(std::int64_t cluster_id, int port)
{
  return update_cluster_column(m_db, "lb_port", cluster_id, port);
}

Result<void> Store::set_failures(std::int64_t cluster_id, int failures)
{
  return update_cluster_column(m_db, "failures", cluster_id, failures);
}

Result<void> Store::set_cluster_status(std::int64_t cluster_id, ClusterStatus status)
{
  TRY(update_cluster_column(m_db, "status", cluster_id, to_string(status)));
  if (status == ClusterStatus::deleted) {
    TRY(update_cluster_column(m_db, "deleted_at", cluster_id, now()));
  }
  return {};
}

Result<std::vector<Instance>> Store::instances(std::int64_t cluster_id, bool include_gone)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           fmt::format("SELECT {} FROM instances WHERE cluster_id = ? {} ORDER "
                                       "BY role, serial",
                                       k_instance_columns,
                                       include_gone ? "" : "AND state != 'gone'")));
  s.bind(1, cluster_id);
  std::vector<Instance> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      break;
    }
    TRY_ASSIGN(auto i, read_instance(s));
    out.push_back(std::move(i));
  }
  return out;
}

Result<std::vector<std::string>> Store::live_instance_names()
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "SELECT name FROM instances WHERE state != 'gone'"));
  std::vector<std::string> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      break;
    }
    out.push_back(s.column_text(0));
  }
  return out;
}

Result<void> Store::insert_instance(Instance& i, std::string_view cluster_name)
{
  // Read-then-write: take the write lock first (see Transaction).
  TRY_ASSIGN(auto tx, Transaction::begin(m_db));
  TRY_ASSIGN(auto q,
             Stmt::prepare(m_db,
                           "SELECT COALESCE(MAX(serial), 0) + 1 FROM instances WHERE "
                           "cluster_id = ? AND role = ?"));
  q.bind(1, i.cluster_id).bind(2, to_string(i.role));
  TRY(q.step());
  i.serial = static_cast<long>(q.column_int(0));
  q.reset();
  i.name = core::instance_name(cluster_name, to_string(i.role), i.serial);
  i.created_at = now();
  i.state_since = i.created_at;
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "INSERT INTO instances (cluster_id, role, serial, name, cloud_id, "
                           "address, state, error, created_at, state_since, in_service_since, "
                           "image, flavor, availability_zone, server_group) VALUES "
                           "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  s.bind(1, i.cluster_id)
    .bind(2, to_string(i.role))
    .bind(3, std::int64_t{i.serial})
    .bind(4, i.name)
    .bind(5, i.cloud_id)
    .bind(6, i.address)
    .bind(7, to_string(i.state))
    .bind(8, i.error)
    .bind(9, i.created_at)
    .bind(10, i.state_since)
    .bind(11, i.in_service_since)
    .bind(12, i.image)
    .bind(13, i.flavor)
    .bind(14, i.availability_zone)
    .bind(15, i.server_group);
  TRY(s.run());
  i.id = m_db.last_insert_id();
  return tx.commit();
}

Result<void> Store::update_instance(const Instance& i)
{
  // Refused, as begin_intent, once another run took this instance's cluster over.
  TRY_ASSIGN(const auto lock, held_cluster_lock(i.cluster_id));
  TRY_ASSIGN(auto tx, fenced(lock));
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "UPDATE instances SET cloud_id = ?, address = ?, state = ?, error = ?, "
                           "state_since = ?, in_service_since = ?, unhealthy_since = ?, "
                           "connections = ?, connections_at = ? WHERE id = ?"));
  s.bind(1, i.cloud_id)
    .bind(2, i.address)
    .bind(3, to_string(i.state))
    .bind(4, i.error)
    .bind(5, i.state_since)
    .bind(6, i.in_service_since)
    .bind(7, i.unhealthy_since)
    .bind(8, i.connections ? std::optional<std::string>(std::to_string(*i.connections))
                           : std::nullopt)
    .bind(9, i.connections ? i.connections_at : std::nullopt)
    .bind(10, i.id);
  TRY(s.run());
  if (tx) {
    TRY(tx->commit());
  }
  return {};
}

Result<void> Store::set_lb_status(std::int64_t instance_id, std::optional<core::Operating> status)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "UPDATE instances SET lb_status = ? WHERE id = ?"));
  s.bind(1, status ? std::optional<std::string>(core::to_string(*status)) : std::nullopt)
    .bind(2, instance_id);
  return s.run();
}

Result<void> Store::set_protected(std::int64_t instance_id, bool protect)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "UPDATE instances SET protected = ? WHERE id = ?"));
  s.bind(1, std::int64_t{protect ? 1 : 0}).bind(2, instance_id);
  return s.run();
}

Result<void> Store::set_public_address(std::int64_t instance_id,
                                       const std::optional<core::IpAddress>& address)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "UPDATE instances SET public_address = ? WHERE id = ?"));
  s.bind(1, address ? std::optional<std::string>(address->to_string()) : std::nullopt)
    .bind(2, instance_id);
  return s.run();
}

Result<void> Store::set_balancer_ids(std::int64_t instance_id, const std::string& listener,
                                     const std::string& pool)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "UPDATE instances SET lb_listener_id = ?, lb_pool_id = ? "
                                         "WHERE id = ?"));
  const auto or_null = [](const std::string& v) {
    return v.empty() ? std::nullopt : std::optional<std::string>(v);
  };
  s.bind(1, or_null(listener)).bind(2, or_null(pool)).bind(3, instance_id);
  return s.run();
}

Result<void> Store::transition(Instance& i, InstanceState s, std::string error)
{
  i.state = s;
  i.state_since = now();
  if (s != InstanceState::in_service) {
    i.unhealthy_since.reset();
  }
  if (s != InstanceState::draining) {
    i.connections.reset();
    i.connections_at.reset();
  }
  if (s == InstanceState::in_service && !i.in_service_since) {
    i.in_service_since = i.state_since;
  }
  if (s == InstanceState::error) {
    i.error = std::move(error);
  }
  return update_instance(i);
}

Result<void> Store::insert_samples(const std::vector<Sample>& samples)
{
  TRY_ASSIGN(auto tx, Transaction::begin(m_db));
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "INSERT INTO load_samples (instance_id, cluster_id, ts, value, raw, "
                           "missing) VALUES (?,?,?,?,?,?) ON CONFLICT (instance_id, ts) DO "
                           "UPDATE SET cluster_id = excluded.cluster_id, value = excluded.value, "
                           "raw = excluded.raw, missing = excluded.missing"));
  for (const auto& sample : samples) {
    s.bind(1, sample.instance_id)
      .bind(2, sample.cluster_id)
      .bind(3, sample.ts)
      .bind(4, sample.value)
      .bind(5, sample.raw);
    if (sample.missing == policy::Missing::no_value) {
      s.bind_null(6);
    } else {
      s.bind(6, policy::to_string(sample.missing));
    }
    TRY(s.run());
    s.reset();
  }
  return tx.commit();
}

Result<std::optional<Sample>> Store::last_raw_sample(std::int64_t instance_id)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           query::k_last_raw_sample));
  s.bind(1, instance_id);
  TRY_ASSIGN(const bool row, s.step());
  if (!row) {
    return std::optional<Sample>{};
  }
  TRY_ASSIGN(auto sample, read_sample(s));
  return std::optional<Sample>{std::move(sample)};
}

Result<std::vector<Sample>> Store::samples_since(std::int64_t cluster_id, Millis since)
{
  return samples_between(cluster_id, since, std::numeric_limits<Millis>::max());
}

Result<std::vector<Sample>> Store::samples_between(std::int64_t cluster_id, Millis from, Millis to)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           query::k_samples_between));
  s.bind(1, cluster_id).bind(2, from).bind(3, to);
  std::vector<Sample> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      break;
    }
    TRY_ASSIGN(auto sample, read_sample(s));
    out.push_back(std::move(sample));
  }
  return out;
}

Result<int> Store::prune_samples(Millis before)
{
  TRY_ASSIGN(auto s, Stmt::prepare(m_db, "DELETE FROM load_samples WHERE ts < ?"));
  s.bind(1, before);
  TRY(s.run());
  return m_db.changes();
}

Result<std::int64_t> Store::insert_decision(const DecisionRow& d)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "INSERT INTO decisions (cluster_id, ts, action, from_size, to_size, "
                           "reason, inputs, status, done_at, explanation, error, source) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"));
  s.bind(1, d.cluster_id)
    .bind(2, d.ts)
    .bind(3, policy::to_string(d.action))
    .bind(4, d.from_size)
    .bind(5, d.to_size)
    .bind(6, d.reason)
    .bind(7, d.inputs)
    .bind(8, to_string(d.status))
    .bind(9, d.done_at)
    .bind(10, d.explanation.empty() ? std::string("{}") : d.explanation)
    .bind(11, d.error)
    .bind(12, d.source);
  TRY(s.run());
  const auto id = m_db.last_insert_id();
  TRY(bump_counter("sclman_decisions_total",
                   fmt::format("action=\"{}\"", policy::to_string(d.action))));
  return id;
}

Result<std::optional<DecisionRow>> Store::pending_decision(std::int64_t cluster_id)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           fmt::format("SELECT {} FROM decisions WHERE cluster_id = ? AND status "
                                       "= 'pending' ORDER BY ts DESC, id DESC LIMIT 1",
                                       k_decision_columns)));
  s.bind(1, cluster_id);
  TRY_ASSIGN(const bool row, s.step());
  if (!row) {
    return std::optional<DecisionRow>{};
  }
  TRY_ASSIGN(auto d, read_decision(s));
  return std::optional<DecisionRow>{std::move(d)};
}

Result<void> Store::set_decision_status(std::int64_t id, DecisionStatus status)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db, "UPDATE decisions SET status = ?, done_at = ? WHERE id = ?"));
  s.bind(1, to_string(status)).bind(2, now()).bind(3, id);
  return s.run();
}

Result<void> Store::supersede_pending(std::int64_t cluster_id)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "UPDATE decisions SET status = 'superseded', done_at = ? WHERE "
                           "cluster_id = ? AND status = 'pending'"));
  s.bind(1, now()).bind(2, cluster_id);
  return s.run();
}

Result<std::vector<DecisionRow>> Store::decisions(std::int64_t cluster_id, int limit)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           fmt::format("SELECT {} FROM decisions WHERE cluster_id = ? ORDER BY "
                                       "ts DESC, id DESC LIMIT ?",
                                       k_decision_columns)));
  s.bind(1, cluster_id).bind(2, limit);
  std::vector<DecisionRow> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      break;
    }
    TRY_ASSIGN(auto d, read_decision(s));
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<policy::PastAction>> Store::actions_since(std::int64_t cluster_id,
                                                             Millis since)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           query::k_actions_since));
  s.bind(1, cluster_id).bind(2, since);
  std::vector<policy::PastAction> out;
  for (;;) {
    TRY_ASSIGN(const bool row, s.step());
    if (!row) {
      break;
    }
    out.push_back(policy::PastAction{s.column_int(0),
                                     static_cast<int>(s.column_int(1)),
                                     static_cast<int>(s.column_int(2))});
  }
  return out;
}

Result<int> Store::expire_decisions(Millis before)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db,
                           "UPDATE decisions SET status = 'expired', done_at = ? WHERE status = "
                           "'pending' AND ts < ?"));
  s.bind(1, now()).bind(2, before);
  TRY(s.run());
  return m_db.changes();
}

Result<int> Store::prune_decisions(Millis before)
{
  TRY_ASSIGN(auto s,
             Stmt::prepare(m_db, "DELETE FROM decisions WHERE status = 'noop' AND ts < ?"));
  s.bind(1, before);
  TRY(s.run());
  const int pruned = m_db.changes();
  TRY_ASSIGN(auto v, Stmt::prepare(m_db, "DELETE FROM scale_in_victims WHERE ts < ?"));
  v.bind(1, before);
  TRY(v.run());
  return pruned;
}

} // namespace state
