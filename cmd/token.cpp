// cmd/token.cpp: `sclman token create NAME --role ROLE [--force] | list | revoke NAME`: the
// bearer tokens of sclman serve. A token is printed once, when made; the state file keeps only
// its SHA-256.
#include "core/names.hpp"
#include "core/time.hpp"
#include "run.hpp"
#include "serve/token.hpp"

#include <fmt/format.h>

namespace cmd {

namespace {

struct TokenOptions
{
  std::string action;
  std::string name;
  std::string role;
  bool force = false;
};

core::Result<void> create_token(Env& env, const TokenOptions& o)
{
  if (o.name.empty()) {
    return core::fail(core::ErrorKind::usage, "token create needs a NAME");
  }
  if (auto valid = core::validate_cluster_name(o.name); !valid) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("token name: {}", valid.error().message));
  }
  const auto role = state::parse_token_role(o.role);
  if (!role) {
    return core::fail(core::ErrorKind::usage,
                      "token create needs --role viewer, operator or admin");
  }
  TRY_ASSIGN(const auto secret, serve::new_token());
  state::Token t;
  t.name = o.name;
  t.role = *role;
  t.hash = serve::token_hash(secret);
  t.force = o.force;
  TRY(env.store->insert_token(t));
  if (env.common.json) {
    out(nlohmann::json{
      {"name", t.name}, {"role", state::to_string(t.role)}, {"force", t.force}, {"token", secret}}
          .dump(2));
  } else {
    out(secret);
  }
  return {};
}

core::Result<void> list_tokens(Env& env)
{
  TRY_ASSIGN(const auto tokens, env.store->tokens());
  if (env.common.json) {
    auto list = nlohmann::json::array();
    for (const auto& t : tokens) {
      list.push_back({{"name", t.name},
                      {"role", state::to_string(t.role)},
                      {"force", t.force},
                      {"created", core::iso8601_utc(t.created_at)},
                      {"revoked", t.revoked_at ? nlohmann::json(core::iso8601_utc(*t.revoked_at))
                                               : nlohmann::json(nullptr)}});
    }
    out(list.dump(2));
    return {};
  }
  out(fmt::format("{:<32} {:<9} {:<5} {:<24} {}", "NAME", "ROLE", "FORCE", "CREATED",
                  "REVOKED"));
  for (const auto& t : tokens) {
    out(fmt::format("{:<32} {:<9} {:<5} {:<24} {}", t.name, state::to_string(t.role),
                    t.force ? "yes" : "no", core::iso8601_utc(t.created_at),
                    t.revoked_at ? core::iso8601_utc(*t.revoked_at) : "-"));
  }
  return {};
}

core::Result<void> revoke_token(Env& env, const TokenOptions& o)
{
  if (o.name.empty()) {
    return core::fail(core::ErrorKind::usage, "token revoke needs a NAME");
  }
  TRY_ASSIGN(const bool revoked, env.store->revoke_token(o.name));
  if (!env.common.json) {
    out(revoked ? fmt::format("revoked token '{}'", o.name)
                : fmt::format("token '{}' was revoked already", o.name));
  } else {
    out(nlohmann::json{{"name", o.name}, {"revoked", revoked}}.dump(2));
  }
  return {};
}

core::Result<void> run_token(Env& env, const TokenOptions& o)
{
  if (o.action == "create") {
    return create_token(env, o);
  }
  if (!o.role.empty() || o.force) {
    return core::fail(core::ErrorKind::usage, "--role and --force are for token create");
  }
  if (o.action == "list") {
    if (!o.name.empty()) {
      return core::fail(core::ErrorKind::usage, "token list takes no NAME");
    }
    return list_tokens(env);
  }
  return revoke_token(env, o);
}

} // namespace

void register_token(CLI::App& app)
{
  auto o = std::make_shared<TokenOptions>();
  auto* sub = add_command(app, "token", "Make, list or revoke the API tokens of sclman serve "
                                        "(token create NAME --role ROLE, list, revoke NAME)",
                          Traits{false, true, Needs::state},
                          [o](Env& env) { return run_token(env, *o); });
  sub->add_option("action", o->action, "create, list or revoke")
    ->required()
    ->check(CLI::IsMember({"create", "list", "revoke"}));
  sub->add_option("name", o->name, "The token's name (as a cluster's: a-z, 0-9, '-')");
  sub->add_option("--role", o->role, "create: viewer (reads), operator (actions) or admin "
                                     "(everything)")
    ->check(CLI::IsMember({"viewer", "operator", "admin"}));
  sub->add_flag("--force", o->force,
                "create: its resize and remove may go outside the policy's [min, max], moving "
                "the bound (operator or admin)");
}

} // namespace cmd
