// cmd/migrate_state.cpp: `sclman migrate-state --from sqlite:PATH --to URL`: copy a state file
// (clusters, instances, history, decisions, journal, tokens, receivers: every table but the
// locks) into an empty PostgreSQL database, in one transaction, the counts checked table by
// table. The file is read as one snapshot and left untouched.
#include "core/log.hpp"
#include "run.hpp"
#include "shell.hpp"
#include "state/copy.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>

namespace cmd {

namespace {

struct MigrateStateOptions
{
  std::string from;
  std::string to;
};

// A private directory below the temporary one, removed with what it holds.
struct ScratchDir
{
  std::string path;
  ScratchDir()
  {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sclman-migrate-XXXXXX").string();
    if (mkdtemp(tmpl.data())) {
      path = tmpl;
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir()
  {
    std::error_code ec;
    if (!path.empty()) {
      std::filesystem::remove_all(path, ec);
    }
  }
};

core::Result<void> run_migrate_state(Env& env, const MigrateStateOptions& o)
{
  const std::string scheme = "sqlite:";
  if (o.from.rfind(scheme, 0) != 0 || o.from.size() == scheme.size()) {
    return core::fail(core::ErrorKind::usage, "--from must be sqlite:PATH (a state file)");
  }
  const auto path = o.from.substr(scheme.size());
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("--from: no state file at '{}'", core::printable(path, 200)));
  }
  // The target as [STATE] url would be: checked, its password from [STATE] password_file.
  Env target_env;
  target_env.common = env.common;
  target_env.config = env.config;
  target_env.config.state.url = o.to;
  TRY_ASSIGN(auto where, state_location(target_env));
  TRY_ASSIGN(const auto shown, state::check_database_url(o.to));
  // A snapshot of the file, migrated to this sclman's schema as a copy: the file itself is
  // only read.
  ScratchDir scratch;
  if (scratch.path.empty()) {
    return core::fail(core::ErrorKind::state, "cannot make a temporary directory for the copy");
  }
  const auto copy = scratch.path + "/snapshot.db";
  TRY(state::snapshot_file(path, copy));
  TRY_ASSIGN(auto from, state::Store::open(copy, env.clock));
  where.path = copy;
  TRY_ASSIGN(auto to, state::Store::open(where, env.clock));
  TRY_ASSIGN(const auto tables, state::copy_state(from.db(), to.db()));
  if (env.common.json) {
    auto counts = nlohmann::json::object();
    for (const auto& t : tables) {
      counts[t.table] = t.rows;
    }
    out(nlohmann::json{{"from", path}, {"to", shown}, {"rows", counts}}.dump(2));
    return {};
  }
  std::string list;
  for (const auto& t : tables) {
    list += fmt::format("{}{} {}", list.empty() ? "" : ", ", t.rows, t.table);
  }
  out(fmt::format("copied state file '{}' into state database {}: {} (each table's rows "
                  "counted on both sides)",
                  path, shown, list));
  return {};
}

} // namespace

void register_migrate_state(CLI::App& app)
{
  auto o = std::make_shared<MigrateStateOptions>();
  auto* sub = add_command(app, "migrate-state",
                          "Copy a state file into an empty PostgreSQL database (then set "
                          "[STATE] url)",
                          Traits{false, true, Needs::nothing},
                          [o](Env& env) { return run_migrate_state(env, *o); });
  sub->add_option("--from", o->from, "The state file: sqlite:PATH")->required();
  sub->add_option("--to", o->to,
                  "The database: a libpq connection string or URI, without a password "
                  "([STATE] password_file or PGPASSFILE gives it)")
    ->required();
}

} // namespace cmd
