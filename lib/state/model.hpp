// The rows of the state file, typed: what Store reads and writes. Status, role and action
// columns are stored as text (see sql/); a text this sclman does not know is a state error when
// the row is read, never a silent default.
#pragma once

#include "core/clock.hpp"
#include "core/endpoint.hpp"
#include "core/operating.hpp"
#include "core/role.hpp"
#include "policy/policy.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace state {

using core::Millis;

enum class InstanceState {
  requested,
  building,
  active,
  bootstrapping,
  in_service,
  draining,
  deleting,
  gone,
  error,
};

// Return the state's name as stored ("in_service").
const char* to_string(InstanceState s);
// Return the state named `name`, or nothing.
std::optional<InstanceState> parse_instance_state(std::string_view name);
// Return true for states on the way into service (requested .. bootstrapping).
bool is_booting(InstanceState s);
// Return true for states that count toward the cluster's size (booting or in service).
bool counts_toward_size(InstanceState s);

// failed: a create-cluster run failed part way (what it made is removed, or kept with
// --keep-failed); create-cluster again retries it, delete-cluster forgets it.
enum class ClusterStatus { creating, active, deleting, deleted, failed };

// Return the status's name as stored ("deleting").
const char* to_string(ClusterStatus s);
// Return the status named `name`, or nothing.
std::optional<ClusterStatus> parse_cluster_status(std::string_view name);
// Return true for a cluster that is being created or is active (not failed, not deleted).
bool is_live(ClusterStatus s);

// The instance's role: core's, so that drivers take the same type (core/role.hpp).
using core::Role;
using core::to_string;
using core::parse_role;

// What a decision asks for: the policy's action, stored by its name ("scale_out").
using DecisionAction = policy::Action;
// Return the action named `name`, or nothing.
std::optional<DecisionAction> parse_decision_action(std::string_view name);

// failed: a size given by hand (--to) whose run failed; nothing else of it was stored.
enum class DecisionStatus { noop, pending, done, expired, superseded, failed };

// Return the status's name as stored ("pending").
const char* to_string(DecisionStatus s);
// Return the status named `name`, or nothing.
std::optional<DecisionStatus> parse_decision_status(std::string_view name);

// Who asked for a decision (sql/0020): "policy" (decide), "manual" (scale-out or scale-in
// --to), "api:NAME" (sclman serve, NAME the token's name) or "webhook:NAME" (a receiver of
// sclman serve, sql/0021).
inline constexpr std::string_view k_source_policy = "policy";
inline constexpr std::string_view k_source_manual = "manual";
// Return `source` if it is one of those, with NAME a valid token name; nothing otherwise.
std::optional<std::string> parse_decision_source(std::string_view source);
// Return true if a decision from `source` is not the policy's own (the chain carries it out
// before the policy decides again).
bool external_source(std::string_view source);

struct Cluster
{
  std::int64_t id = 0;
  std::string name;
  std::string provider = "local";
  std::string bootstrapper = "local";
  std::string balancer = "nginx";
  std::string metrics = "stub_status";
  std::string flavor;
  std::string image;
  std::string network;
  std::string policy;  // JSON
  int desired = 0;
  std::optional<int> lb_port;  // 1-65535 when set
  // The address the LB on this host listens on (create-cluster --listen, sql/0008); nothing
  // for 127.0.0.1.
  std::optional<core::IpAddress> lb_listen;
  ClusterStatus status = ClusterStatus::active;
  int failures = 0;
  Millis created_at = 0;
  // What the cluster's cloud resolved to when it was created (sql/0007): Keystone URL and
  // project; empty for providers without clouds and for older clusters.
  std::string cloud_auth_url;
  std::string cloud_project;
  // The cluster's own [HEALTH] keys, "key = value" lines (create-cluster --health, sql/0010);
  // checked by core::health_over when the row is read.
  std::string health;
  // The external network of the LB's floating IP (create-cluster --floating-network,
  // sql/0015); empty for none. Printable text of at most 255 bytes, checked when read.
  std::string floating_network;
  // The policy of the cluster's Nova server group (create-cluster --server-group, sql/0016):
  // "anti-affinity" or "soft-anti-affinity"; empty for none.
  std::string server_group;
  // The availability zones its web servers spread over (create-cluster --availability-zones,
  // sql/0018), each once; none: the cloud picks.
  std::vector<std::string> availability_zones;
};

struct Instance
{
  std::int64_t id = 0;
  std::int64_t cluster_id = 0;
  Role role = Role::web;
  long serial = 0;
  std::string name;
  std::string cloud_id;
  std::string address;  // host:port
  InstanceState state = InstanceState::requested;
  std::string error;
  Millis created_at = 0;
  Millis state_since = 0;
  std::optional<Millis> in_service_since;
  // In service but out of the balancer since then: it failed its health checks (sql/0009;
  // `error` says how). Nothing while healthy.
  std::optional<Millis> unhealthy_since;
  // Its member's status as the balancer reports it (sql/0011), nothing if it reports none.
  std::optional<core::Operating> lb_status;
  // On an LB instance: its balancer's listener and pool ids (sql/0012), empty if it has none.
  std::string lb_listener_id;
  std::string lb_pool_id;
  // Protected from scale-in (`sclman protect`, sql/0013): never chosen as a victim.
  bool protected_from_scale_in = false;
  // What it was created with (sql/0014): the cluster's image and flavor when it was requested.
  std::string image;
  std::string flavor;
  // While draining: its connections with a request in flight, as its stub_status said at
  // connections_at; nothing when not measured.
  std::optional<int> connections;
  std::optional<Millis> connections_at;
  // On an LB instance: its floating IP (sql/0015), nothing until the cloud gave it one.
  std::optional<core::IpAddress> public_address;
  // The availability zone it was requested in and the Nova server group it was created in
  // (sql/0018); empty for none.
  std::string availability_zone;
  std::string server_group;
};

// Return true for a web instance that counts toward its cluster's size (booting or in service).
bool is_live_web(const Instance& i);

// Return the names of the web instances among `instances` that count toward the size and are
// protected from scale-in.
std::vector<std::string> protected_web(const std::vector<Instance>& instances);

// A scale-in victim as drain_excess chose it (sql/0014): which instance, the cluster's victim
// policy then, and why this one ("the newest in service (serial 5)").
struct VictimRow
{
  Millis ts = 0;
  std::string instance;
  std::string victim_policy;
  std::string reason;
};

struct Sample
{
  std::int64_t instance_id = 0;
  std::int64_t cluster_id = 0;
  Millis ts = 0;
  std::optional<double> value;
  std::optional<std::int64_t> raw;
  policy::Missing missing = policy::Missing::no_value;  // why `value` is empty
};

struct DecisionRow
{
  std::int64_t id = 0;
  std::int64_t cluster_id = 0;
  Millis ts = 0;
  DecisionAction action = DecisionAction::hold;
  int from_size = 0;
  int to_size = 0;
  std::string reason;
  std::string inputs;  // JSON object
  DecisionStatus status = DecisionStatus::noop;
  std::optional<Millis> done_at;
  std::string explanation;  // JSON object (policy::decision_json), "{}" if none
  std::string error;        // why a failed decision failed, else ""
  std::string source = std::string(k_source_policy);  // parse_decision_source
};

struct JournalEntry
{
  std::int64_t id = 0;
  Millis ts = 0;
  std::string cluster;
  std::string instance;
  std::string op;
  std::string detail;
  std::string status;
};

// A node or server kept out of the cluster's LB: its address did not parse.
struct RejectedBackend
{
  std::string name;    // escaped
  std::string reason;  // escaped
  Millis since = 0;    // first rejected
};

// A rolling replacement of a cluster's web instances (`sclman replace`, sql/0017). Running
// until no web instance it replaces is left (done), a new instance failed (failed), or the
// operator cancelled it; a failed or cancelled one gave the cluster its old image and flavor
// back.
enum class RolloutStatus { running, done, failed, cancelled };

// Return the status's name as stored ("running").
const char* to_string(RolloutStatus s);
// Return the status named `name`, or nothing.
std::optional<RolloutStatus> parse_rollout_status(std::string_view name);

// The bounds of a rollout's numbers (sclman replace checks them; a row beyond is corrupted).
inline constexpr int k_max_rollout_batch = 100;
inline constexpr int k_max_rollout_size = 10000;
inline constexpr int k_max_rollout_pause_s = 86400;

struct Rollout
{
  std::int64_t id = 0;
  std::int64_t cluster_id = 0;
  RolloutStatus status = RolloutStatus::running;
  std::string from_image;
  std::string from_flavor;
  std::string to_image;
  std::string to_flavor;
  int batch = 1;           // instances replaced per batch, 1 to 100
  int min_in_service = 0;  // never fewer in service while it drains to make room
  int pause_s = 0;         // between one batch's end and the next one's start
  // It replaces the web instances with a serial up to this one (those that existed when it
  // started); `total` of them were booting or in service then.
  long last_old_serial = 0;
  // Only this web instance (one that existed when it started); nothing: all of them.
  std::optional<std::string> instance;
  int total = 0;
  int batches = 0;         // batches started
  int surge = 0;           // the running batch's web instances above the desired size
  Millis started_at = 0;
  std::optional<Millis> batch_started_at;  // while a batch runs
  std::optional<Millis> batch_ended_at;    // the last batch's end
  std::optional<Millis> ended_at;
  std::string error;       // why it failed
};

// Return true if web instance `i` is one `r` replaces: it existed when `r` started (and is the
// one `r` names, if it names one).
bool replaced_by(const Instance& i, const Rollout& r);

struct Counter
{
  std::string name;
  std::string labels;  // rendered, e.g. action="scale_out"
  std::int64_t value = 0;
};

// The latest claim of a cluster's tick (Store::claim_ticks): its slot and the host that has it.
struct TickClaim
{
  std::int64_t slot = 0;
  std::string host;
};

struct RunRecord
{
  std::string command;
  Millis ts = 0;
  int exit_code = 0;
  Millis duration_ms = 0;
  // When the command last exited 0 (this run's ts if it did); nothing if it never did.
  std::optional<Millis> last_success;
};

// An API token of sclman serve (sql/0020): only its SHA-256 is kept.
enum class TokenRole { viewer, operator_, admin };
// Return the role's name as stored ("operator").
const char* to_string(TokenRole r);
// Return the role named `name`, or nothing.
std::optional<TokenRole> parse_token_role(std::string_view name);

struct Token
{
  std::int64_t id = 0;
  std::string name;  // a valid cluster name (core::validate_cluster_name)
  TokenRole role = TokenRole::viewer;
  std::string hash;  // 64 lowercase hex digits
  bool force = false;  // its actions may go outside the policy's [min, max] (never a viewer's)
  Millis created_at = 0;
  std::optional<Millis> revoked_at;
};

// A request to sclman serve that changed something or was refused for its token.
struct AuditRow
{
  std::int64_t id = 0;
  Millis ts = 0;
  std::string token;  // the token's name, "" for none
  std::string method;
  std::string path;
  int status = 0;
  std::string detail;
};

// A webhook receiver of sclman serve (sql/0021): bound to a cluster (or to the alert label that
// names one) and to one action, with a token of its own kept as SHA-256.
enum class ReceiverKind { alertmanager, json };
enum class ReceiverAction { scale_out, scale_in, set_desired, hold };
const char* to_string(ReceiverKind k);
std::optional<ReceiverKind> parse_receiver_kind(std::string_view name);
const char* to_string(ReceiverAction a);
std::optional<ReceiverAction> parse_receiver_action(std::string_view name);

// The largest amount of a receiver: instances, a size, or seconds of a hold (a day).
inline constexpr int k_max_receiver_amount = 86400;

struct Receiver
{
  std::int64_t id = 0;
  std::string name;           // a valid cluster name
  ReceiverKind kind = ReceiverKind::json;
  std::string cluster;        // the cluster it acts on; "" when cluster_label names it
  std::string cluster_label;  // alertmanager: the alert label whose value is the cluster
  ReceiverAction action = ReceiverAction::scale_out;
  int amount = 1;             // 1..k_max_receiver_amount (0 too for set_desired)
  int rate_per_minute = 6;    // 1..600
  std::string hash;
  Millis created_at = 0;
};

// A hold on a cluster's policy (sql/0021): while active, decide does not scale in, or does
// nothing at all.
enum class HoldScope { scale_in, all };
const char* to_string(HoldScope s);
std::optional<HoldScope> parse_hold_scope(std::string_view name);

struct Hold
{
  std::int64_t id = 0;
  std::int64_t cluster_id = 0;
  std::string source;  // webhook:NAME
  HoldScope scope = HoldScope::scale_in;
  std::string key;     // the alert's fingerprint, "" for none
  Millis created_at = 0;
  Millis until = 0;
};

} // namespace state
