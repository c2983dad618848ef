#include "state/model.hpp"

#include "core/names.hpp"

#include <array>

namespace state {

namespace {

constexpr std::array k_state_names = {"requested",
                                      "building",
                                      "active",
                                      "bootstrapping",
                                      "in_service",
                                      "draining",
                                      "deleting",
                                      "gone",
                                      "error"};
constexpr std::array k_cluster_status_names = {"creating", "active", "deleting", "deleted",
                                              "failed"};
constexpr std::array k_token_role_names = {"viewer", "operator", "admin"};
constexpr std::array k_receiver_kind_names = {"alertmanager", "json"};
constexpr std::array k_receiver_action_names = {"scale_out", "scale_in", "set_desired", "hold"};
constexpr std::array k_hold_scope_names = {"scale_in", "all"};
constexpr std::array k_decision_status_names = {"noop", "pending", "done", "expired",
                                                "superseded", "failed"};
constexpr std::array k_rollout_status_names = {"running", "done", "failed", "cancelled"};

// Return the enumerator whose name (by position in `names`) is `name`, or nothing.
template <typename E, typename Names>
std::optional<E> parse_name(const Names& names, std::string_view name)
{
  for (size_t i = 0; i < names.size(); ++i) {
    if (name == names[i]) {
      return static_cast<E>(i);
    }
  }
  return std::nullopt;
}

} // namespace

const char* to_string(InstanceState s)
{
  return k_state_names[static_cast<size_t>(s)];
}

std::optional<InstanceState> parse_instance_state(std::string_view name)
{
  return parse_name<InstanceState>(k_state_names, name);
}

bool is_booting(InstanceState s)
{
  return s == InstanceState::requested || s == InstanceState::building
         || s == InstanceState::active || s == InstanceState::bootstrapping;
}

bool counts_toward_size(InstanceState s)
{
  return is_booting(s) || s == InstanceState::in_service;
}

bool is_live_web(const Instance& i)
{
  return i.role == Role::web && counts_toward_size(i.state);
}

std::vector<std::string> protected_web(const std::vector<Instance>& instances)
{
  std::vector<std::string> names;
  for (const auto& i : instances) {
    if (is_live_web(i) && i.protected_from_scale_in) {
      names.push_back(i.name);
    }
  }
  return names;
}

const char* to_string(ClusterStatus s)
{
  return k_cluster_status_names[static_cast<size_t>(s)];
}

std::optional<ClusterStatus> parse_cluster_status(std::string_view name)
{
  return parse_name<ClusterStatus>(k_cluster_status_names, name);
}

bool is_live(ClusterStatus s)
{
  return s == ClusterStatus::creating || s == ClusterStatus::active;
}

std::optional<DecisionAction> parse_decision_action(std::string_view name)
{
  for (const auto a : {DecisionAction::hold, DecisionAction::scale_out, DecisionAction::scale_in}) {
    if (name == policy::to_string(a)) {
      return a;
    }
  }
  return std::nullopt;
}

const char* to_string(DecisionStatus s)
{
  return k_decision_status_names[static_cast<size_t>(s)];
}

std::optional<DecisionStatus> parse_decision_status(std::string_view name)
{
  return parse_name<DecisionStatus>(k_decision_status_names, name);
}

std::optional<std::string> parse_decision_source(std::string_view source)
{
  if (source == k_source_policy || source == k_source_manual) {
    return std::string(source);
  }
  for (const std::string_view prefix : {"api:", "webhook:"}) {
    if (source.starts_with(prefix) && core::validate_cluster_name(source.substr(prefix.size()))) {
      return std::string(source);
    }
  }
  return std::nullopt;
}

const char* to_string(TokenRole r)
{
  return k_token_role_names[static_cast<size_t>(r)];
}

std::optional<TokenRole> parse_token_role(std::string_view name)
{
  return parse_name<TokenRole>(k_token_role_names, name);
}

const char* to_string(ReceiverKind k)
{
  return k_receiver_kind_names[static_cast<size_t>(k)];
}

std::optional<ReceiverKind> parse_receiver_kind(std::string_view name)
{
  return parse_name<ReceiverKind>(k_receiver_kind_names, name);
}

const char* to_string(ReceiverAction a)
{
  return k_receiver_action_names[static_cast<size_t>(a)];
}

std::optional<ReceiverAction> parse_receiver_action(std::string_view name)
{
  return parse_name<ReceiverAction>(k_receiver_action_names, name);
}

const char* to_string(HoldScope s)
{
  return k_hold_scope_names[static_cast<size_t>(s)];
}

std::optional<HoldScope> parse_hold_scope(std::string_view name)
{
  return parse_name<HoldScope>(k_hold_scope_names, name);
}

bool external_source(std::string_view source)
{
  return source != k_source_policy && source != k_source_manual;
}

const char* to_string(RolloutStatus s)
{
  return k_rollout_status_names[static_cast<size_t>(s)];
}

std::optional<RolloutStatus> parse_rollout_status(std::string_view name)
{
  return parse_name<RolloutStatus>(k_rollout_status_names, name);
}

bool replaced_by(const Instance& i, const Rollout& r)
{
  return i.role == Role::web && i.serial <= r.last_old_serial
         && (!r.instance || i.name == *r.instance);
}

} // namespace state
