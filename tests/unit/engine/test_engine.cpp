// The instance state machine (lib/engine/engine.cpp), one case per invariant, driven through
// the real Engine over a real state file, with a fake clock and small fake drivers that record
// every call in one log, in order.
#include "engine/engine.hpp"
#include "engine/manual.hpp"
#include "state/db.hpp"
#include "../core/fake_clock.hpp"
#include "../http/one_at_a_time.hpp"
#include "../state/temp_store.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_engine {

using state::Instance;
using state::InstanceState;

namespace {

struct World;

// Return the op of the pending journal intent naming `instance`, or "".
std::string pending_op(state::Store& store, const std::string& instance)
{
  auto s = state::Stmt::prepare(store.db(),
                                "SELECT op FROM journal WHERE status = 'pending' AND instance = ?");
  REQUIRE(s);
  s->bind(1, instance);
  return s->step().value() ? s->column_text(0) : std::string();
}

// What every fake shares: the call log, and a check that a side effect has its intent.
struct Recorder
{
  state::Store* store = nullptr;
  std::vector<std::string> log;           // "create shop-web-1", "apply shop-lb-1 a,b", ...
  std::vector<std::string> unjournaled;   // side effects that started with no pending intent

  void effect(const std::string& what, const std::string& instance, const std::string& op)
  {
    log.push_back(what + " " + instance);
    if (pending_op(*store, instance) != op) {
      unjournaled.push_back(what + " " + instance);
    }
  }
  std::size_t count(const std::string& prefix) const
  {
    return static_cast<std::size_t>(std::count_if(log.begin(), log.end(), [&](const auto& l) {
      return l.rfind(prefix, 0) == 0;
    }));
  }
  // Return the position of the first entry that starts with `prefix`, or log.size().
  std::size_t first(const std::string& prefix) const
  {
    for (std::size_t k = 0; k < log.size(); ++k) {
      if (log[k].rfind(prefix, 0) == 0) {
        return k;
      }
    }
    return log.size();
  }
};

class FakeBalancer final : public lb::Balancer
{
public:
  explicit FakeBalancer(Recorder& r) : m_r(r) {}

  std::map<std::string, std::vector<std::string>> forwards;  // LB name -> addresses
  std::vector<lb::MemberView> reported;  // what apply says of its members (Octavia's statuses)
  std::optional<lb::BalancerIds> ids;    // what apply says its listener and pool are

  core::Result<lb::Applied> apply(const core::InstanceRef& lb,
                                  const std::vector<lb::Backend>& backends) override
  {
    std::vector<std::string> addresses;
    std::string text;
    for (const auto& b : backends) {
      addresses.push_back(b.endpoint.to_string());
      text += (text.empty() ? "" : ",") + b.endpoint.to_string();
    }
    m_r.log.push_back("apply " + lb.name + " " + text);
    forwards[lb.name] = addresses;
    lb::Applied applied;
    applied.members = reported;
    applied.ids = ids;
    return applied;
  }
  core::Result<std::vector<core::Endpoint>> current(const core::InstanceRef& lb) override
  {
    std::vector<core::Endpoint> out;
    for (const auto& a : forwards[lb.name]) {
      TRY_ASSIGN(auto e, core::Endpoint::parse(a));
      out.push_back(e);
    }
    return out;
  }
  std::string health_path() const override { return "/fake-health"; }
  bool checks = false;  // checks its members itself (Octavia): `reported` decides health
  bool checks_members() const override { return checks; }

  // Return true if any LB forwards to `address`.
  bool forwards_to(const std::string& address) const
  {
    return std::any_of(forwards.begin(), forwards.end(), [&](const auto& f) {
      return std::find(f.second.begin(), f.second.end(), address) != f.second.end();
    });
  }

private:
  Recorder& m_r;
};

class FakeProvider final : public cloud::Provider
{
public:
  FakeProvider(Recorder& r, FakeBalancer& lb) : m_r(r), m_lb(lb) {}

  std::map<std::string, cloud::Server> servers;  // by name
  cloud::ServerStatus new_status = cloud::ServerStatus::active;
  // Names whose create the cloud refuses (upstream_rejected).
  std::set<std::string> reject;
  // Names whose create the cloud carries out but whose answer is lost (a timeout).
  std::set<std::string> lose_answer;
  std::vector<std::string> removed_while_forwarded;  // deleted while an LB forwarded to them
  int made = 0;

  core::Result<cloud::Server> create(const cloud::ServerSpec& spec) override
  {
    m_r.effect("create", spec.name, "create_server");
    if (auto it = servers.find(spec.name); it != servers.end()) {
      return it->second;  // the contract: the one that already has the name
    }
    if (reject.count(spec.name)) {
      return core::fail(core::ErrorKind::upstream_rejected, "quota exceeded", "fake");
    }
    cloud::Server s;
    s.id = "id-" + std::to_string(++made);
    s.name = spec.name;
    s.cluster = spec.cluster;
    s.role = spec.role;
    s.status = new_status;
    s.address = core::Endpoint::parse("10.0.0." + std::to_string(made) + ":80").value();
    servers[s.name] = s;
    if (lose_answer.erase(spec.name)) {
      return core::fail(core::ErrorKind::upstream_transient, "timed out", "fake");
    }
    return s;
  }
  core::Result<std::optional<cloud::Server>> find(const std::string& name) override
  {
    m_r.log.push_back("find " + name);
    if (auto it = servers.find(name); it != servers.end()) {
      return std::optional<cloud::Server>{it->second};
    }
    return std::optional<cloud::Server>{};
  }
  core::Result<void> remove(const core::InstanceRef& instance) override
  {
    m_r.effect("remove", instance.name, "delete_server");
    if (m_lb.forwards_to(instance.address)) {
      removed_while_forwarded.push_back(instance.name);
    }
    servers.erase(instance.name);
    return {};
  }
  core::Result<std::vector<cloud::Server>> list() override
  {
    std::vector<cloud::Server> out;
    for (const auto& [name, s] : servers) {
      out.push_back(s);
    }
    return out;
  }
  // The floating IP it gives (nothing: none), or the error it answers; who asked, on which
  // network.
  std::optional<core::IpAddress> floating;
  std::optional<core::Error> floating_error;
  std::vector<std::string> floating_asked;
  core::Result<std::optional<core::IpAddress>>
  public_address(const core::InstanceRef& instance, const std::string& network) override
  {
    floating_asked.push_back(instance.name + " " + network);
    if (floating_error) {
      return tl::make_unexpected(*floating_error);
    }
    return floating;
  }

private:
  Recorder& m_r;
  FakeBalancer& m_lb;
};

class FakeBootstrapper final : public cm::Bootstrapper
{
public:
  explicit FakeBootstrapper(Recorder& r) : m_r(r) {}

  bool converged = true;              // what bootstrap answers
  std::set<std::string> dead;         // instances whose service no longer runs
  std::set<std::string> gone;         // instances whose bootstrap is refused: gone for good
  std::map<std::string, bool> serving;  // set_in_service's last word per instance
  int user_data_calls = 0;
  int settle_seconds = 0;  // drain_seconds(): how long its balancer takes to let go

  int drain_seconds() const override { return settle_seconds; }

  core::Result<std::string> user_data(const core::InstanceRef&) override
  {
    ++user_data_calls;
    return std::string("#cloud-config\n");
  }
  core::Result<bool> bootstrap(const core::InstanceRef& instance) override
  {
    const auto op = pending_op(*m_r.store, instance.name) == "restart_lb" ? "restart_lb"
                                                                           : "bootstrap";
    m_r.effect("bootstrap", instance.name, op);
    if (gone.count(instance.name)) {
      return core::fail(core::ErrorKind::upstream_rejected, instance.name + " is gone");
    }
    if (op == std::string("restart_lb")) {
      dead.erase(instance.name);
    }
    return converged;
  }
  core::Result<bool> running(const core::InstanceRef& instance) override
  {
    return dead.count(instance.name) == 0;
  }
  core::Result<void> set_in_service(const core::InstanceRef& instance, bool in_service) override
  {
    m_r.log.push_back(std::string(in_service ? "in_service " : "out_of_service ")
                      + instance.name);
    serving[instance.name] = in_service;
    return {};
  }
  core::Result<void> decommission(const core::InstanceRef& instance) override
  {
    m_r.effect("decommission", instance.name, "delete_server");
    return {};
  }

private:
  Recorder& m_r;
};

// Answers 200 (or the address's entry in `status`) for every address not in `down`; records
// the URLs asked.
class FakeHttp final : public OneAtATimeTransport
{
public:
  std::set<std::string> down;  // host:port
  std::map<std::string, int> status;  // host:port -> the status it answers
  std::map<std::string, std::deque<int>> next;  // host:port -> statuses of its next requests
  // host:port -> its stub_status page's (reading + writing, waiting) besides sclman's request;
  // an instance not listed answers an empty body, which is no stub_status page.
  std::map<std::string, std::pair<int, int>> busy;
  std::vector<std::string> urls;

  core::Result<http::HttpResponse> send(const http::HttpRequest& request) override
  {
    urls.push_back(request.url);
    for (const auto& d : down) {
      if (request.url.find("//" + d + "/") != std::string::npos) {
        return core::fail(core::ErrorKind::upstream_transient, "connection refused");
      }
    }
    http::HttpResponse r;
    r.status = 200;
    for (const auto& [address, code] : status) {
      if (request.url.find("//" + address + "/") != std::string::npos) {
        r.status = code;
      }
    }
    for (auto& [address, codes] : next) {
      if (!codes.empty() && request.url.find("//" + address + "/") != std::string::npos) {
        r.status = codes.front();
        codes.pop_front();
      }
    }
    for (const auto& [address, b] : busy) {
      if (request.url == "http://" + address + "/nginx_status") {
        r.body = fmt::format("Active connections: {} \nserver accepts handled requests\n 1 1 1 \n"
                             "Reading: 0 Writing: {} Waiting: {} \n",
                             b.first + b.second + 1, b.first + 1, b.second);
      }
    }
    return r;
  }
};

// A state file holding cluster "shop" and the fake drivers; drain 10 s, boot timeout 300 s.
struct World
{
  state_test::TempDir dir;
  test::FakeClock clock;
  std::optional<state::Store> store;
  state::Cluster cluster;
  Recorder rec;
  FakeBalancer balancer{rec};
  FakeProvider provider{rec, balancer};
  FakeBootstrapper boot{rec};
  FakeHttp http;
  engine::Options options;

  explicit World(int desired = 1)
  {
    auto opened = state_test::open_store((dir.path / "s.db").string(), clock);
    REQUIRE(opened);
    store.emplace(std::move(*opened));
    rec.store = &*store;
    cluster.name = "shop";
    cluster.policy = "{}";
    cluster.desired = desired;
    cluster.id = store->insert_cluster(cluster).value();
    options.drain_seconds = 10;
    options.boot_timeout = 300;
    options.failure_budget = 3;
  }

  engine::Engine engine()
  {
    return engine::Engine(*store, engine::Drivers{&provider, &boot, &balancer, nullptr, &http},
                          options);
  }

  core::Result<void> reconcile(engine::Step step = engine::Step::all)
  {
    auto e = engine();
    return e.reconcile(cluster, step);
  }

  std::vector<Instance> instances()
  {
    auto all = store->instances(cluster.id, true);
    REQUIRE(all);
    return *all;
  }

  Instance instance(const std::string& name)
  {
    for (auto& i : instances()) {
      if (i.name == name) {
        return i;
      }
    }
    FAIL("no instance " << name);
    return {};
  }

  InstanceState state_of(const std::string& name) { return instance(name).state; }

  std::vector<std::string> names_in(InstanceState s)
  {
    std::vector<std::string> out;
    for (const auto& i : instances()) {
      if (i.state == s) {
        out.push_back(i.name);
      }
    }
    return out;
  }

  // Add a requested web instance row; return its name.
  std::string request_web()
  {
    Instance i;
    i.cluster_id = cluster.id;
    i.role = state::Role::web;
    REQUIRE(store->insert_instance(i, cluster.name));
    return i.name;
  }

  void pass_seconds(int s) { clock.t += core::Millis(s) * 1000; }
};

std::vector<std::string> names(std::initializer_list<const char*> list)
{
  return {list.begin(), list.end()};
}

} // namespace

TEST_CASE("every create, bootstrap and delete has its intent in the journal before it starts",
          "[engine]")
{
  World w(3);
  REQUIRE(w.reconcile());
  CHECK(w.names_in(InstanceState::in_service)
        == names({"shop-lb-1", "shop-web-1", "shop-web-2", "shop-web-3"}));
  w.cluster.desired = 1;  // the policy's min: the newest two go
  REQUIRE(w.reconcile(engine::Step::shrink));
  w.pass_seconds(w.options.drain_seconds + 1);
  REQUIRE(w.reconcile(engine::Step::shrink));
  CHECK(w.names_in(InstanceState::gone) == names({"shop-web-2", "shop-web-3"}));

  CHECK(w.rec.count("create ") == 4);
  CHECK(w.rec.count("bootstrap ") == 4);
  CHECK(w.rec.count("decommission ") == 2);
  CHECK(w.rec.count("remove ") == 2);
  CHECK(w.rec.unjournaled.empty());
}

TEST_CASE("a create whose answer was lost is found again by name, not made twice", "[engine]")
{
  World w(1);
  SECTION("the create timed out")
  {
    w.provider.lose_answer.insert("shop-web-1");
    CHECK_FALSE(w.reconcile());
    CHECK(w.state_of("shop-web-1") == InstanceState::requested);
    REQUIRE(w.reconcile());
  }
  SECTION("a run died between the create and recording it")
  {
    const auto name = w.request_web();
    REQUIRE(name == "shop-web-1");
    cloud::ServerSpec spec;
    spec.name = name;
    spec.cluster = "shop";
    REQUIRE(w.provider.create(spec));
    w.rec.log.clear();
    REQUIRE(w.reconcile());
    // It boots with the user data it was made with: new user data would lock it out.
    CHECK(w.boot.user_data_calls == 1);  // the LB's only
  }
  CHECK(w.state_of("shop-web-1") == InstanceState::in_service);
  CHECK(w.provider.servers.size() == 2);  // the LB and one web server
  CHECK(w.instances().size() == 2);
  CHECK(w.rec.first("find shop-web-1") < w.rec.first("create shop-web-1"));
}

TEST_CASE("each instance state advances one step to the next, and only when it may", "[engine]")
{
  World w(1);
  REQUIRE(w.reconcile());  // the LB and shop-web-1 in service: the policy's min stays
  w.provider.new_status = cloud::ServerStatus::building;
  w.boot.converged = false;
  const auto name = w.request_web();
  REQUIRE(name == "shop-web-2");
  auto e = w.engine();
  std::vector<InstanceState> seen{w.state_of(name)};
  auto step = [&](bool expect_move) {
    auto i = w.instance(name);
    auto moved = e.advance(w.cluster, i);
    REQUIRE(moved);
    CHECK(*moved == expect_move);
    seen.push_back(w.state_of(name));
  };
  step(true);                                    // requested -> building
  step(false);                                   // the server still builds
  w.provider.servers.at(name).status = cloud::ServerStatus::active;
  step(true);                                    // -> active
  step(true);                                    // -> bootstrapping
  step(false);                                   // not converged yet
  w.boot.converged = true;
  w.http.down.insert(w.instance(name).address);
  step(false);                                   // converged, but no healthy answer
  w.http.down.clear();
  step(true);                                    // -> in_service
  step(false);                                   // in service stays
  w.cluster.desired = 1;                         // the newest, this one, drains
  REQUIRE(e.drain_excess(w.cluster));
  seen.push_back(w.state_of(name));              // -> draining
  step(false);                                   // drain time not over
  w.pass_seconds(w.options.drain_seconds);
  step(true);                                    // -> deleting
  step(true);                                    // -> gone
  step(false);                                   // gone stays

  using S = InstanceState;
  CHECK(seen
        == std::vector<S>{S::requested, S::building, S::building, S::active, S::bootstrapping,
                          S::bootstrapping, S::bootstrapping, S::in_service, S::in_service,
                          S::draining, S::draining, S::deleting, S::gone, S::gone});
  CHECK(w.boot.serving.at(name) == false);
}

TEST_CASE("an instance that does not boot within the boot timeout moves to error", "[engine]")
{
  World w(1);
  const auto name = w.request_web();
  auto e = w.engine();
  auto advance = [&] {
    auto i = w.instance(name);
    REQUIRE(e.advance(w.cluster, i));
  };
  SECTION("stuck building")
  {
    w.provider.new_status = cloud::ServerStatus::building;
    advance();
    REQUIRE(w.state_of(name) == InstanceState::building);
  }
  SECTION("never healthy while bootstrapping")
  {
    w.http.down.insert("10.0.0.1:80");
    advance();
    advance();
    REQUIRE(w.state_of(name) == InstanceState::bootstrapping);
  }
  const auto before = w.state_of(name);
  w.pass_seconds(w.options.boot_timeout);
  advance();
  CHECK(w.state_of(name) == before);  // at the timeout, not yet
  w.pass_seconds(1);
  advance();
  CHECK(w.state_of(name) == InstanceState::error);
  CHECK(w.cluster.failures == 1);
  CHECK(w.store->find_cluster("shop").value()->failures == 1);
}

TEST_CASE("failed creates count against the failure budget and creating stops when it is spent",
          "[engine]")
{
  World w(1);
  // The LB and shop-web-1 in service first (an instance coming into service clears the count).
  REQUIRE(w.reconcile(engine::Step::grow));
  REQUIRE(w.state_of("shop-lb-1") == InstanceState::in_service);
  REQUIRE(w.state_of("shop-web-1") == InstanceState::in_service);
  w.cluster.desired = 2;
  w.options.failure_budget = 2;
  w.provider.reject = {"shop-web-2", "shop-web-3", "shop-web-4"};
  REQUIRE(w.reconcile(engine::Step::grow));
  CHECK(w.state_of("shop-web-2") == InstanceState::error);
  CHECK(w.cluster.failures == 1);
  REQUIRE(w.reconcile(engine::Step::grow));
  CHECK(w.state_of("shop-web-3") == InstanceState::error);
  CHECK(w.cluster.failures == 2);
  // The budget is spent: no fourth web instance, no fourth create.
  REQUIRE(w.reconcile(engine::Step::grow));
  CHECK(w.rec.count("create shop-web-") == 3);
  CHECK(w.instances().size() == 4);  // the LB, shop-web-1 and the two failed ones
  CHECK(w.store->find_cluster("shop").value()->failures == 2);
}

TEST_CASE("the live size goes to the desired size, never past it, the booting drained first",
          "[engine]")
{
  World w(3);
  auto e = w.engine();
  REQUIRE(e.fill_to_desired(w.cluster) == 4);  // the LB and three web instances
  REQUIRE(e.fill_to_desired(w.cluster) == 0);
  CHECK(engine::live_web(w.instances()) == 3);
  REQUIRE(w.reconcile());
  CHECK(w.names_in(InstanceState::in_service).size() == 4);

  w.cluster.desired = 4;
  REQUIRE(e.fill_to_desired(w.cluster) == 1);  // shop-web-4, requested
  w.cluster.desired = 2;
  const auto victims = e.drain_excess(w.cluster);
  REQUIRE(victims);
  // The one still booting first (it serves nothing), then the newest in service.
  CHECK(*victims == names({"shop-web-4", "shop-web-3"}));
  CHECK(engine::live_web(w.instances()) == 2);
  REQUIRE(e.drain_excess(w.cluster));
  CHECK(engine::live_web(w.instances()) == 2);
  REQUIRE(e.fill_to_desired(w.cluster) == 0);
}

TEST_CASE("a protected instance is never a scale-in victim; the desired size stays", "[engine]")
{
  World w(3);
  REQUIRE(w.reconcile());
  CHECK(w.names_in(InstanceState::in_service).size() == 4);
  // shop-web-3, the newest, would be the victim: protected, shop-web-2 goes instead.
  REQUIRE(w.store->set_protected(w.instance("shop-web-3").id, true));
  CHECK(w.instance("shop-web-3").protected_from_scale_in);
  auto e = w.engine();
  w.cluster.desired = 2;
  auto victims = e.drain_excess(w.cluster);
  REQUIRE(victims);
  CHECK(*victims == names({"shop-web-2"}));
  // Down to 1 with two protected: nothing more drains, the desired size stays 1 (as AWS).
  REQUIRE(w.store->set_protected(w.instance("shop-web-1").id, true));
  w.cluster.desired = 1;
  victims = e.drain_excess(w.cluster);
  REQUIRE(victims);
  CHECK(victims->empty());
  CHECK(w.cluster.desired == 1);
  CHECK(engine::live_web(w.instances()) == 2);
  // Unprotected, it is the next run's victim.
  REQUIRE(w.store->set_protected(w.instance("shop-web-3").id, false));
  victims = e.drain_excess(w.cluster);
  REQUIRE(victims);
  CHECK(*victims == names({"shop-web-3"}));
}

TEST_CASE("set_protection: web instances booting or in service only, and says when it changed "
          "nothing",
          "[engine]")
{
  World w(2);
  REQUIRE(w.reconcile());
  const auto set = [&](const std::string& name, bool protect) {
    return engine::set_protection(*w.store, w.cluster, name, protect);
  };
  CHECK(engine::set_protection(*w.store, w.cluster, "shop-web-1", true, false).value());
  CHECK_FALSE(w.instance("shop-web-1").protected_from_scale_in);  // a dry run writes nothing
  CHECK(set("shop-web-1", true).value());
  CHECK_FALSE(set("shop-web-1", true).value());  // already
  CHECK(w.instance("shop-web-1").protected_from_scale_in);
  CHECK(set("shop-web-1", false).value());
  CHECK_FALSE(w.instance("shop-web-1").protected_from_scale_in);
  for (const char* bad : {"shop-lb-1", "shop-web-9", "other-web-1", ""}) {
    INFO(bad);
    const auto refused = set(bad, true);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == core::ErrorKind::usage);
  }
  auto web2 = w.instance("shop-web-2");
  REQUIRE(w.store->transition(web2, InstanceState::draining));
  const auto draining = set("shop-web-2", true);
  REQUIRE_FALSE(draining);
  CHECK(draining.error().message.find("draining") != std::string::npos);
}

TEST_CASE("a scale-out while an instance drains takes it back into service instead of a boot",
          "[engine]")
{
  World w(3);
  REQUIRE(w.reconcile());
  auto e = w.engine();
  w.cluster.desired = 1;
  REQUIRE(e.drain_excess(w.cluster));
  CHECK(w.names_in(InstanceState::draining) == names({"shop-web-2", "shop-web-3"}));
  // shop-web-3's service died while it drained, shop-web-2 fails its check: neither comes back.
  w.boot.dead.insert("shop-web-3");
  w.http.status[w.instance("shop-web-2").address] = 503;
  w.rec.log.clear();
  w.cluster.desired = 2;
  REQUIRE(e.fill_to_desired(w.cluster) == 1);  // a new row: nothing could be reclaimed
  CHECK(w.state_of("shop-web-2") == InstanceState::draining);
  CHECK(w.state_of("shop-web-4") == InstanceState::requested);
  w.cluster.desired = 1;
  REQUIRE(e.drain_excess(w.cluster));  // the requested one goes first
  // Healthy again: shop-web-2 is back in service and in the balancer, and nothing is created.
  w.http.status.clear();
  w.rec.log.clear();
  w.cluster.desired = 2;
  REQUIRE(e.fill_to_desired(w.cluster) == 0);
  CHECK(w.state_of("shop-web-2") == InstanceState::in_service);
  CHECK(w.state_of("shop-web-3") == InstanceState::draining);
  CHECK(w.boot.serving["shop-web-2"]);
  CHECK(std::none_of(w.rec.log.begin(), w.rec.log.end(), [](const std::string& l) {
    return l.rfind("create", 0) == 0;
  }));
  const auto& forwards = w.balancer.forwards["shop-lb-1"];
  CHECK(std::count(forwards.begin(), forwards.end(), w.instance("shop-web-2").address) == 1);
  CHECK(forwards.size() == 2);
  CHECK(engine::live_web(w.instances()) == 2);
}

TEST_CASE("a drained instance leaves the balancer, and is deleted only after drain_seconds",
          "[engine]")
{
  World w(2);
  REQUIRE(w.reconcile());
  const auto victim = w.instance("shop-web-2");
  REQUIRE(w.balancer.forwards_to(victim.address));
  SECTION("scale-in")
  {
    w.cluster.desired = 1;
    REQUIRE(w.reconcile(engine::Step::shrink));
    CHECK(w.state_of(victim.name) == InstanceState::draining);
    CHECK_FALSE(w.balancer.forwards_to(victim.address));
    CHECK(w.boot.serving.at(victim.name) == false);
  }
  SECTION("a run died after marking it draining, before telling the LB")
  {
    auto i = victim;
    REQUIRE(w.store->transition(i, InstanceState::draining));
    w.pass_seconds(w.options.drain_seconds + 1);
    REQUIRE(w.reconcile(engine::Step::shrink));
    // Taken out now, and the drain starts again from here.
    CHECK_FALSE(w.balancer.forwards_to(victim.address));
    CHECK(w.state_of(victim.name) == InstanceState::draining);
  }
  w.pass_seconds(w.options.drain_seconds - 1);
  REQUIRE(w.reconcile(engine::Step::shrink));
  CHECK(w.state_of(victim.name) == InstanceState::draining);
  CHECK(w.rec.count("remove ") == 0);
  w.pass_seconds(1);
  REQUIRE(w.reconcile(engine::Step::shrink));
  CHECK(w.state_of(victim.name) == InstanceState::gone);
  CHECK(w.rec.count("remove " + victim.name) == 1);
  CHECK(w.provider.removed_while_forwarded.empty());
  CHECK(w.state_of("shop-web-1") == InstanceState::in_service);
}

TEST_CASE("a drain ends in the same run once no request is in flight, or at the deadline",
          "[engine]")
{
  World w(3);
  REQUIRE(w.reconcile());
  const auto web2 = w.instance("shop-web-2");
  const auto web3 = w.instance("shop-web-3");
  w.http.busy[web3.address] = {0, 0};  // idle
  w.http.busy[web2.address] = {2, 1};  // two requests in flight, one kept-alive connection
  w.cluster.desired = 1;
  REQUIRE(w.reconcile(engine::Step::shrink));
  // No time passed: the idle one is gone, the busy one drains and says how busy.
  CHECK(w.state_of("shop-web-3") == InstanceState::gone);
  CHECK(w.state_of("shop-web-2") == InstanceState::draining);
  CHECK(w.instance("shop-web-2").connections == 2);
  CHECK(w.instance("shop-web-2").connections_at == w.clock.t);
  w.http.busy[web2.address] = {1, 1};
  w.pass_seconds(5);
  REQUIRE(w.reconcile(engine::Step::shrink));
  CHECK(w.state_of("shop-web-2") == InstanceState::draining);
  CHECK(w.instance("shop-web-2").connections == 1);
  // Only a kept-alive connection left: no request in flight, the drain ends.
  w.http.busy[web2.address] = {0, 1};
  w.pass_seconds(1);
  REQUIRE(w.reconcile(engine::Step::shrink));
  CHECK(w.state_of("shop-web-2") == InstanceState::gone);
  CHECK_FALSE(w.instance("shop-web-2").connections);  // measured only while draining
  CHECK(w.provider.removed_while_forwarded.empty());

  SECTION("busy to the end: deleted at the deadline")
  {
    w.cluster.desired = 2;
    REQUIRE(w.reconcile(engine::Step::grow));
    const auto web4 = w.instance("shop-web-4");
    w.http.busy[web4.address] = {1, 0};
    w.cluster.desired = 1;
    REQUIRE(w.reconcile(engine::Step::shrink));
    w.pass_seconds(w.options.drain_seconds - 1);
    REQUIRE(w.reconcile(engine::Step::shrink));
    CHECK(w.state_of("shop-web-4") == InstanceState::draining);
    w.pass_seconds(1);
    REQUIRE(w.reconcile(engine::Step::shrink));
    CHECK(w.state_of("shop-web-4") == InstanceState::gone);
  }
  SECTION("idle, but the balancer has not let go yet: not before the bootstrapper's delay")
  {
    w.boot.settle_seconds = 3;
    w.cluster.desired = 2;
    REQUIRE(w.reconcile(engine::Step::grow));
    w.http.busy[w.instance("shop-web-4").address] = {0, 0};
    w.cluster.desired = 1;
    REQUIRE(w.reconcile(engine::Step::shrink));
    w.pass_seconds(2);
    REQUIRE(w.reconcile(engine::Step::shrink));
    CHECK(w.state_of("shop-web-4") == InstanceState::draining);
    w.pass_seconds(1);
    REQUIRE(w.reconcile(engine::Step::shrink));
    CHECK(w.state_of("shop-web-4") == InstanceState::gone);
  }
}

namespace {

// Grow `w` to three web instances in service, 10 s apart.
void grow_to_three(World& w)
{
  for (int size = 1; size <= 3; ++size) {
    w.cluster.desired = size;
    REQUIRE(w.reconcile(engine::Step::grow));
    w.pass_seconds(10);
  }
}

// Grow `w` to three web instances (grow_to_three); return the victims of a scale-in to
// `desired` under the policy JSON `policy`.
std::vector<std::string> victims_under(World& w, const std::string& policy, int desired)
{
  grow_to_three(w);
  w.cluster.policy = policy;
  w.cluster.desired = desired;
  auto e = w.engine();
  auto victims = e.drain_excess(w.cluster);
  REQUIRE(victims);
  return *victims;
}

// Return the newest recorded victim's reason.
std::string last_reason(World& w)
{
  const auto rows = w.store->victims(w.cluster.id, 1);
  REQUIRE(rows);
  REQUIRE(rows->size() == 1);
  return rows->front().victim_policy + ": " + rows->front().reason;
}

} // namespace

TEST_CASE("the victim policy picks which in-service instance drains, and says why", "[engine]")
{
  World w(1);
  SECTION("newest (the default)")
  {
    CHECK(victims_under(w, "{}", 2) == names({"shop-web-3"}));
    CHECK(last_reason(w) == "newest: the newest in service (serial 3)");
  }
  SECTION("oldest")
  {
    CHECK(victims_under(w, R"({"victim": "oldest"})", 1) == names({"shop-web-1", "shop-web-2"}));
    CHECK(last_reason(w).rfind("oldest: the oldest in service (since ", 0) == 0);
  }
  SECTION("least-busy by open connections")
  {
    w.http.busy = {{"10.0.0.2:80", {3, 0}}, {"10.0.0.3:80", {0, 0}}, {"10.0.0.4:80", {0, 1}}};
    CHECK(victims_under(w, R"({"victim": "least-busy"})", 2) == names({"shop-web-2"}));
    CHECK(w.instance("shop-web-2").address == "10.0.0.3:80");
    CHECK(last_reason(w)
          == "least-busy: the least busy: 0 open connections, the next (shop-web-3) has 1");
  }
  SECTION("least-busy by the latest load sample when one does not answer its stub_status")
  {
    w.http.busy = {{"10.0.0.2:80", {3, 0}}, {"10.0.0.3:80", {0, 0}}};  // shop-web-3 silent
    grow_to_three(w);
    std::vector<state::Sample> samples;
    for (const auto& [name, value] : {std::pair{"shop-web-1", 9.0}, {"shop-web-3", 4.0}}) {
      state::Sample s;
      s.instance_id = w.instance(name).id;
      s.cluster_id = w.cluster.id;
      s.ts = w.clock.t - 5000;
      s.value = value;
      samples.push_back(s);
    }
    REQUIRE(w.store->insert_samples(samples));
    // shop-web-2 has no sample: after the two that have one.
    CHECK(victims_under(w, R"({"victim": "least-busy"})", 1)
          == names({"shop-web-3", "shop-web-1"}));
    CHECK(last_reason(w).find("the least busy by its latest load sample, 9") != std::string::npos);
  }
  SECTION("oldest-image: those not on the cluster's image first, then the newest")
  {
    w.cluster.image = "img-1";
    w.cluster.desired = 2;
    REQUIRE(w.reconcile(engine::Step::grow));
    w.cluster.image = "img-2";
    w.cluster.desired = 3;
    REQUIRE(w.reconcile(engine::Step::grow));
    CHECK(w.instance("shop-web-1").image == "img-1");
    CHECK(w.instance("shop-web-3").image == "img-2");
    CHECK(victims_under(w, R"({"victim": "oldest-image"})", 1)
          == names({"shop-web-2", "shop-web-1"}));
    CHECK(last_reason(w) == "oldest-image: its image 'img-1' is not the cluster's current "
                            "'img-2' (serial 1)");
  }
}

TEST_CASE("no new side effect starts after the run's deadline", "[engine]")
{
  World w(2);
  w.request_web();
  REQUIRE(w.reconcile());  // the LB, shop-web-1 and shop-web-2 in service
  w.cluster.desired = 3;
  w.options.deadline = core::steady_now() - 1;
  auto e = w.engine();
  REQUIRE(e.out_of_time());
  REQUIRE(e.fill_to_desired(w.cluster) == 0);  // past the deadline not even a row
  REQUIRE(w.request_web() == "shop-web-3");     // one made by hand waits for the next run
  auto deleting = w.instance("shop-web-1");
  REQUIRE(w.store->transition(deleting, InstanceState::deleting));
  w.rec.log.clear();
  REQUIRE(w.reconcile());
  CHECK(w.rec.count("create ") == 0);
  CHECK(w.rec.count("bootstrap ") == 0);
  CHECK(w.rec.count("remove ") == 0);
  CHECK(w.rec.count("decommission ") == 0);
  CHECK(w.state_of("shop-web-3") == InstanceState::requested);
  CHECK(w.state_of("shop-web-1") == InstanceState::deleting);
}

TEST_CASE("check_health marks a dead in-service web instance error and takes it out of the LB",
          "[engine]")
{
  World w(2);
  REQUIRE(w.reconcile());
  const auto dead = w.instance("shop-web-1");
  w.boot.dead.insert(dead.name);
  auto e = w.engine();
  REQUIRE(e.check_health(w.cluster) == 1);
  CHECK(w.state_of(dead.name) == InstanceState::error);
  CHECK(w.boot.serving.at(dead.name) == false);
  CHECK_FALSE(w.balancer.forwards_to(dead.address));
  CHECK(w.balancer.forwards_to(w.instance("shop-web-2").address));
  CHECK(w.state_of("shop-web-2") == InstanceState::in_service);
  CHECK(w.rec.count("remove ") == 0);  // gc deletes it, the operator sees it first

  SECTION("a dead LB is brought back in place, not marked error")
  {
    w.boot.dead.insert("shop-lb-1");
    w.rec.log.clear();
    REQUIRE(e.check_health(w.cluster) == 0);
    CHECK(w.rec.log == names({"bootstrap shop-lb-1"}));
    CHECK(w.rec.unjournaled.empty());
    CHECK(w.state_of("shop-lb-1") == InstanceState::in_service);
  }

  SECTION("an LB that cannot come back in place goes to error and a new one is made")
  {
    w.boot.dead.insert("shop-lb-1");
    w.boot.gone.insert("shop-lb-1");
    REQUIRE(e.check_health(w.cluster) == 0);  // an LB is not counted
    const auto lost = w.instance("shop-lb-1");
    CHECK(lost.state == InstanceState::error);
    CHECK(lost.error == "load balancer lost: shop-lb-1 is gone");
    REQUIRE(w.reconcile());
    CHECK(w.state_of("shop-lb-2") == InstanceState::in_service);
    CHECK(w.balancer.forwards_to(w.instance("shop-web-2").address));
    CHECK(w.rec.unjournaled.empty());
  }
}

TEST_CASE("the member statuses a balancer reports are kept per instance, and cleared when it "
          "stops reporting one", "[engine]")
{
  World w(2);
  REQUIRE(w.reconcile());
  CHECK_FALSE(w.instance("shop-web-1").lb_status);  // nothing reported: nothing kept
  w.balancer.reported = {{"shop-web-1", core::Operating::online},
                         {"shop-web-2", core::Operating::error},
                         {"other-web-9", core::Operating::online}};  // not this cluster's
  auto e = w.engine();
  REQUIRE(e.sync_lb(w.cluster));
  CHECK(w.instance("shop-web-1").lb_status == core::Operating::online);
  CHECK(w.instance("shop-web-2").lb_status == core::Operating::error);
  CHECK_FALSE(w.instance("shop-lb-1").lb_status);
  w.balancer.reported = {{"shop-web-2", core::Operating::no_monitor}};
  REQUIRE(e.sync_lb(w.cluster));
  CHECK_FALSE(w.instance("shop-web-1").lb_status);
  CHECK(w.instance("shop-web-2").lb_status == core::Operating::no_monitor);
}

TEST_CASE("the listener and pool ids a balancer reports are kept on the LB instance", "[engine]")
{
  World w(1);
  REQUIRE(w.reconcile());
  CHECK(w.instance("shop-lb-1").lb_pool_id.empty());
  w.balancer.ids = lb::BalancerIds{"l-1", "p-1"};
  auto e = w.engine();
  REQUIRE(e.sync_lb(w.cluster));
  CHECK(w.instance("shop-lb-1").lb_listener_id == "l-1");
  CHECK(w.instance("shop-lb-1").lb_pool_id == "p-1");
  CHECK(w.instance("shop-web-1").lb_pool_id.empty());
  w.balancer.ids.reset();  // a balancer that makes none (or no longer has them)
  REQUIRE(e.sync_lb(w.cluster));
  CHECK(w.instance("shop-lb-1").lb_listener_id.empty());
  CHECK(w.instance("shop-lb-1").lb_pool_id.empty());
}

TEST_CASE("with a balancer that checks its members, its ERROR takes an instance out and its "
          "ONLINE brings it back, without sclman's probes",
          "[engine]")
{
  World w(2);
  w.balancer.checks = true;
  w.options.health.grace_ms = 60'000;
  REQUIRE(w.reconcile());
  const auto sick = w.instance("shop-web-1");
  const auto well = w.instance("shop-web-2");
  auto e = w.engine();
  w.http.urls.clear();
  w.balancer.reported = {{sick.name, core::Operating::error}, {well.name, core::Operating::online}};
  REQUIRE(e.sync_lb(w.cluster));
  REQUIRE(e.check_health(w.cluster) == 0);
  CHECK(w.http.urls.empty());  // the monitor's word, no probe of sclman's
  const auto out = w.instance(sick.name);
  REQUIRE(out.unhealthy_since);
  CHECK(out.error == "the balancer health monitor reports ERROR");
  CHECK_FALSE(w.balancer.forwards_to(sick.address));
  CHECK(w.balancer.forwards_to(well.address));
  CHECK_FALSE(w.instance(well.name).unhealthy_since);

  SECTION("OFFLINE or no report keeps it out; ONLINE brings it back")
  {
    w.balancer.reported = {{sick.name, core::Operating::offline}};
    REQUIRE(e.sync_lb(w.cluster));
    REQUIRE(e.check_health(w.cluster) == 0);
    CHECK(w.instance(sick.name).unhealthy_since);
    CHECK_FALSE(w.instance(well.name).unhealthy_since);  // no report is no failure
    w.balancer.reported = {{sick.name, core::Operating::online}};
    REQUIRE(e.sync_lb(w.cluster));
    REQUIRE(e.check_health(w.cluster) == 0);
    CHECK_FALSE(w.instance(sick.name).unhealthy_since);
    CHECK(w.balancer.forwards_to(sick.address));
    CHECK(w.http.urls.empty());
  }

  SECTION("still ERROR after the grace: error, and replaced")
  {
    w.clock.t += 60'000;
    REQUIRE(e.check_health(w.cluster) == 1);
    CHECK(w.state_of(sick.name) == InstanceState::error);
  }
}

TEST_CASE("destroy takes a web instance out of the LB before the provider deletes it", "[engine]")
{
  World w(2);
  REQUIRE(w.reconcile());
  auto victim = w.instance("shop-web-1");
  auto e = w.engine();
  w.rec.log.clear();
  REQUIRE(e.destroy(w.cluster, victim));
  CHECK(w.state_of(victim.name) == InstanceState::gone);
  CHECK(w.provider.removed_while_forwarded.empty());
  CHECK(w.rec.first("apply shop-lb-1") < w.rec.first("decommission " + victim.name));
  CHECK(w.rec.first("decommission " + victim.name) < w.rec.first("remove " + victim.name));
  CHECK(w.rec.count("remove ") == 1);
  CHECK(w.rec.unjournaled.empty());
}

TEST_CASE("the LB is healthy when its balancer's health path answers, a web server at /",
          "[engine]")
{
  World w(1);
  REQUIRE(w.reconcile());
  const auto lb = w.instance("shop-lb-1");
  const auto web = w.instance("shop-web-1");
  CHECK(std::count(w.http.urls.begin(), w.http.urls.end(),
                   "http://" + lb.address + "/fake-health") == 1);
  CHECK(std::count(w.http.urls.begin(), w.http.urls.end(), "http://" + web.address + "/") == 1);
}

TEST_CASE("an in-service web instance that fails its HTTP checks leaves the LB, comes back "
          "after passing, and is replaced after the grace",
          "[engine]")
{
  World w(2);
  w.options.health.path = "/ping";
  w.options.health.interval_ms = 2000;
  w.options.health.unhealthy_threshold = 3;
  w.options.health.healthy_threshold = 2;
  w.options.health.grace_ms = 60'000;
  REQUIRE(w.reconcile());
  const auto sick = w.instance("shop-web-1");
  const auto well = w.instance("shop-web-2");
  auto e = w.engine();
  const auto checks_of = [&](const Instance& i) {
    return std::count(w.http.urls.begin(), w.http.urls.end(), "http://" + i.address + "/ping");
  };

  w.http.urls.clear();
  w.clock.slept.clear();
  SECTION("a passing instance is checked once, without a wait")
  {
    REQUIRE(e.check_health(w.cluster) == 0);
    CHECK(checks_of(sick) == 1);
    CHECK(w.clock.slept.empty());
    CHECK_FALSE(w.instance(sick.name).unhealthy_since);
  }

  SECTION("failures fewer than the threshold, then a pass, change nothing")
  {
    w.http.next[sick.address] = {500, 404};
    REQUIRE(e.check_health(w.cluster) == 0);
    CHECK(checks_of(sick) == 3);
    CHECK_FALSE(w.instance(sick.name).unhealthy_since);
    CHECK(w.balancer.forwards_to(sick.address));
  }

  w.http.status[sick.address] = 503;

  SECTION("unhealthy_threshold failures in a row, interval apart: out of the LB, still counted")
  {
    REQUIRE(e.check_health(w.cluster) == 0);
    CHECK(checks_of(sick) == 3);
    CHECK(checks_of(well) == 1);
    CHECK(w.clock.slept == std::vector<core::Millis>{2000, 2000});
    const auto out = w.instance(sick.name);
    CHECK(out.state == InstanceState::in_service);
    REQUIRE(out.unhealthy_since);
    CHECK(out.error == "3 health checks in a row failed: GET /ping answered 503");
    CHECK_FALSE(w.balancer.forwards_to(sick.address));
    CHECK(w.balancer.forwards_to(well.address));
    CHECK(w.boot.serving.at(sick.name) == false);
    CHECK(engine::live_web(w.instances()) == 2);  // no replacement yet

    // Still failing within the grace: stays out, nothing booted.
    w.pass_seconds(30);
    REQUIRE(w.reconcile());
    CHECK(w.instance(sick.name).unhealthy_since == out.unhealthy_since);
    CHECK(w.names_in(InstanceState::in_service).size() == 3);  // LB and both webs

    SECTION("healthy_threshold passes in a row bring it back")
    {
      w.http.status.clear();
      w.http.urls.clear();
      REQUIRE(e.check_health(w.cluster) == 0);
      CHECK(checks_of(sick) == 2);
      const auto back = w.instance(sick.name);
      CHECK_FALSE(back.unhealthy_since);
      CHECK(back.error.empty());
      CHECK(w.balancer.forwards_to(sick.address));
      CHECK(w.boot.serving.at(sick.name) == true);
    }

    SECTION("one pass is not enough with healthy_threshold 2")
    {
      w.http.next[sick.address] = {200, 502};
      REQUIRE(e.check_health(w.cluster) == 0);
      CHECK(w.instance(sick.name).unhealthy_since);
      CHECK_FALSE(w.balancer.forwards_to(sick.address));
    }

    SECTION("after the grace it goes to error and the same run boots its replacement")
    {
      w.pass_seconds(31);
      REQUIRE(w.reconcile());
      const auto gone = w.instance(sick.name);
      CHECK(gone.state == InstanceState::error);
      CHECK(gone.error.find("unhealthy for 61 s (grace 60 s): 3 health checks") == 0);
      CHECK(w.state_of("shop-web-3") == InstanceState::in_service);
      CHECK(w.balancer.forwards_to(w.instance("shop-web-3").address));
      CHECK(engine::live_web(w.instances()) == 2);
    }

    SECTION("scale-in drains the unhealthy instance first, though it is the oldest")
    {
      w.cluster.desired = 1;
      REQUIRE(w.store->set_desired(w.cluster.id, 1));
      auto drained = e.drain_excess(w.cluster);
      REQUIRE(drained);
      CHECK(*drained == std::vector<std::string>{sick.name});
    }
  }

  SECTION("an address that does not parse fails the check without a request")
  {
    auto row = w.instance(sick.name);
    row.address = "10.0.0.1:80/evil";
    REQUIRE(w.store->update_instance(row));
    w.http.status.clear();
    REQUIRE(e.check_health(w.cluster) == 0);
    CHECK(w.instance(sick.name).unhealthy_since);
    for (const auto& url : w.http.urls) {
      CHECK(url.find("evil") == std::string::npos);
    }
  }
}

TEST_CASE("a cluster with a floating network gets its LB's public address once it is in "
          "service; a refused one fails no run",
          "[engine]")
{
  World w(1);
  w.cluster.floating_network = "public";
  w.provider.floating_error =
    core::fail(core::ErrorKind::upstream_rejected, "no free IP", "neutron").value();
  REQUIRE(w.reconcile());
  REQUIRE(w.reconcile());
  // Asked only once the LB served, each run until it has one; the failure failed no run.
  REQUIRE_FALSE(w.provider.floating_asked.empty());
  CHECK(w.provider.floating_asked.front() == "shop-lb-1 public");
  auto lb = [&] {
    for (const auto& i : w.instances()) {
      if (i.role == state::Role::lb) {
        return i;
      }
    }
    FAIL("no LB");
    return Instance{};
  };
  CHECK(lb().state == InstanceState::in_service);
  CHECK_FALSE(lb().public_address);
  const auto asked = w.provider.floating_asked.size();
  w.provider.floating_error.reset();
  w.provider.floating = core::IpAddress::parse("203.0.113.7").value();
  REQUIRE(w.reconcile());
  CHECK(w.provider.floating_asked.size() == asked + 1);
  CHECK(lb().public_address->to_string() == "203.0.113.7");
  // Once it has one, no run asks again.
  REQUIRE(w.reconcile());
  CHECK(w.provider.floating_asked.size() == asked + 1);

  // Without a floating network nothing is asked.
  World plain(1);
  REQUIRE(plain.reconcile());
  CHECK(plain.provider.floating_asked.empty());
}

namespace {

// Start a rollout of w's cluster to `image`, as sclman replace does.
state::Rollout start_rollout(World& w, const std::string& image, int batch, int min_in_service)
{
  state::Rollout r;
  r.cluster_id = w.cluster.id;
  r.from_image = w.cluster.image;
  r.from_flavor = w.cluster.flavor;
  r.to_image = image;
  r.to_flavor = w.cluster.flavor;
  r.batch = batch;
  r.min_in_service = min_in_service;
  auto started = w.store->start_rollout(r);
  INFO((started ? std::string() : started.error().message));
  REQUIRE(started);
  w.cluster.image = image;
  return r;
}

// Start a rollout of web instance `name` of w's cluster, as sclman replace --instance does.
state::Rollout start_rollout_of(World& w, const std::string& name, int min_in_service)
{
  state::Rollout r;
  r.cluster_id = w.cluster.id;
  r.from_image = r.to_image = w.cluster.image;
  r.from_flavor = r.to_flavor = w.cluster.flavor;
  r.min_in_service = min_in_service;
  r.instance = name;
  auto started = w.store->start_rollout(r);
  INFO((started ? std::string() : started.error().message));
  REQUIRE(started);
  return r;
}

// Return the web instances of `w` in service and healthy.
int serving(World& w)
{
  int n = 0;
  for (const auto& i : w.instances()) {
    n += i.role == state::Role::web && i.state == InstanceState::in_service && !i.unhealthy_since;
  }
  return n;
}

// Run the chain's scale-out and scale-in on `w` until its rollout ends (at most `runs` times,
// drain_seconds apart); check before each run that at least `floor` serve. Return its last row.
state::Rollout run_rollout(World& w, int floor, int runs = 40)
{
  for (int k = 0; k < runs; ++k) {
    CHECK(serving(w) >= floor);
    REQUIRE(w.reconcile(engine::Step::grow));
    REQUIRE(w.reconcile(engine::Step::shrink));
    auto running = w.store->running_rollout(w.cluster.id);
    REQUIRE(running);
    if (!*running) {
      break;
    }
    w.pass_seconds(w.options.drain_seconds + 1);
  }
  auto last = w.store->last_rollout(w.cluster.id);
  REQUIRE(last);
  REQUIRE(*last);
  return **last;
}

// Return the images of `w`'s web instances that are booting or in service, by name.
std::map<std::string, std::string> live_images(World& w)
{
  std::map<std::string, std::string> out;
  for (const auto& i : w.instances()) {
    if (i.role == state::Role::web && state::counts_toward_size(i.state)) {
      out[i.name] = i.image;
    }
  }
  return out;
}

} // namespace

TEST_CASE("a rollout replaces every web instance a batch at a time, booting before draining",
          "[engine][rollout]")
{
  World w(4);
  w.cluster.image = "img-1";
  REQUIRE(w.reconcile());
  REQUIRE(serving(w) == 4);
  const auto r = start_rollout(w, "img-2", 2, 3);
  CHECK(r.total == 4);
  CHECK(r.last_old_serial == 4);
  const auto last = run_rollout(w, 4);  // room above the desired size: never fewer than 4
  CHECK(last.status == state::RolloutStatus::done);
  CHECK(last.batches == 2);
  CHECK(live_images(w)
        == std::map<std::string, std::string>{{"shop-web-5", "img-2"}, {"shop-web-6", "img-2"},
                                              {"shop-web-7", "img-2"}, {"shop-web-8", "img-2"}});
  // Each batch's two new instances were in service before an old one left the balancer.
  CHECK(w.rec.first("out_of_service shop-web-") > w.rec.first("in_service shop-web-6"));
  CHECK(w.names_in(InstanceState::gone)
        == names({"shop-web-1", "shop-web-2", "shop-web-3", "shop-web-4"}));
  CHECK(w.rec.unjournaled.empty());
  // The victims say why.
  auto victims = w.store->victims(w.cluster.id, 10);
  REQUIRE(victims);
  REQUIRE(victims->size() == 4);
  CHECK(victims->front().reason.find("replaced by rollout 1") == 0);
}

TEST_CASE("a rollout of one instance replaces only it: its replacement serves before it drains",
          "[engine][rollout]")
{
  World w(3);
  w.cluster.image = "img-1";
  REQUIRE(w.reconcile());
  REQUIRE(serving(w) == 3);
  CHECK(start_rollout_of(w, "shop-web-2", 2).total == 1);
  const auto last = run_rollout(w, 3);
  CHECK(last.status == state::RolloutStatus::done);
  CHECK(last.instance == "shop-web-2");
  CHECK(last.batches == 1);
  CHECK(w.names_in(InstanceState::gone) == names({"shop-web-2"}));
  CHECK(live_images(w)
        == std::map<std::string, std::string>{{"shop-web-1", "img-1"}, {"shop-web-3", "img-1"},
                                              {"shop-web-4", "img-1"}});
  CHECK(w.rec.first("out_of_service shop-web-2") > w.rec.first("in_service shop-web-4"));
  CHECK(w.rec.unjournaled.empty());
}

TEST_CASE("a rollout of one instance boots its replacement, not a draining one taken back",
          "[engine][rollout]")
{
  World w(3);
  REQUIRE(w.reconcile());
  // shop-web-1 was removed by hand: draining, the desired size one less.
  auto removed = w.instance("shop-web-1");
  removed.state = InstanceState::draining;
  REQUIRE(w.store->update_instance(removed));
  w.cluster.desired = 2;
  REQUIRE(w.store->set_desired(w.cluster.id, 2));
  start_rollout_of(w, "shop-web-2", 1);
  const auto last = run_rollout(w, 2);
  CHECK(last.status == state::RolloutStatus::done);
  CHECK(w.names_in(InstanceState::gone) == names({"shop-web-1", "shop-web-2"}));
  CHECK(live_images(w).size() == 2);
  CHECK(live_images(w).count("shop-web-4") == 1);
}

TEST_CASE("a rollout with no room above the desired size drains first, keeping min-in-service",
          "[engine][rollout]")
{
  World w(3);
  w.options.max_instances = 3;
  w.cluster.image = "img-1";
  REQUIRE(w.reconcile());
  start_rollout(w, "img-2", 2, 2);  // two per batch, but never fewer than 2 in service
  const auto last = run_rollout(w, 2);
  CHECK(last.status == state::RolloutStatus::done);
  CHECK(last.batches == 3);  // one at a time: 3 - 1 < 2 for a second one
  for (const auto& [name, image] : live_images(w)) {
    CHECK(image == "img-2");
  }
  CHECK(live_images(w).size() == 3);
  CHECK(w.provider.servers.size() == 4);  // the LB and three web servers: never more
}

TEST_CASE("a rollout at max size with min-in-service at the size is blocked, and says so",
          "[engine][rollout]")
{
  World w(2);
  w.options.max_instances = 2;
  REQUIRE(w.reconcile());
  start_rollout(w, "img-2", 1, 2);
  REQUIRE(w.reconcile());
  REQUIRE(w.reconcile());
  auto running = w.store->running_rollout(w.cluster.id);
  REQUIRE(running);
  REQUIRE(*running);
  CHECK((*running)->batches == 0);
  CHECK(serving(w) == 2);
  CHECK(w.rec.count("create ") == 3);  // the LB and the two web servers of before
}

TEST_CASE("a new instance that fails fails the rollout; the old ones keep serving",
          "[engine][rollout]")
{
  World w(2);
  w.cluster.image = "img-1";
  REQUIRE(w.reconcile());
  start_rollout(w, "img-bad", 1, 1);
  w.boot.converged = false;  // the new image never converges
  REQUIRE(w.reconcile(engine::Step::grow));
  CHECK(w.state_of("shop-web-3") == InstanceState::bootstrapping);
  w.pass_seconds(w.options.boot_timeout + 1);
  w.reconcile(engine::Step::grow);  // shop-web-3 times out: error
  REQUIRE(w.state_of("shop-web-3") == InstanceState::error);
  REQUIRE(w.reconcile(engine::Step::shrink));
  auto last = w.store->last_rollout(w.cluster.id);
  REQUIRE(last);
  REQUIRE(*last);
  CHECK((*last)->status == state::RolloutStatus::failed);
  CHECK((*last)->error.find("shop-web-3 failed") == 0);
  // The cluster's image is the old one again, in the row and for the next instances.
  CHECK(w.cluster.image == "img-1");
  CHECK(w.store->find_cluster("shop").value()->image == "img-1");
  CHECK(w.state_of("shop-web-1") == InstanceState::in_service);
  CHECK(w.state_of("shop-web-2") == InstanceState::in_service);
  CHECK(serving(w) == 2);
}

TEST_CASE("a scale-out during a rollout reclaims no instance the rollout drains",
          "[engine][rollout]")
{
  World w(2);
  w.options.max_instances = 2;
  w.cluster.image = "img-1";
  REQUIRE(w.reconcile());
  start_rollout(w, "img-2", 1, 1);
  REQUIRE(w.reconcile(engine::Step::shrink));  // no room: shop-web-2 (the newest) drains first
  CHECK(w.state_of("shop-web-2") == InstanceState::draining);
  REQUIRE(w.reconcile(engine::Step::grow));  // a new one, not shop-web-2 back
  CHECK(w.state_of("shop-web-2") == InstanceState::draining);
  CHECK(w.instance("shop-web-3").image == "img-2");
  CHECK(w.rec.count("in_service shop-web-2") == 1);  // only when it first came in
}

TEST_CASE("the policy keeps working during a rollout, and the rollout follows its size",
          "[engine][rollout]")
{
  World w(2);
  w.cluster.image = "img-1";
  REQUIRE(w.reconcile());
  start_rollout(w, "img-2", 1, 1);
  REQUIRE(w.reconcile());  // batch 1: shop-web-3 above the size
  w.cluster.desired = 3;   // a scale-out decision meanwhile
  REQUIRE(w.store->set_desired(w.cluster.id, 3));
  const auto last = run_rollout(w, 2);
  CHECK(last.status == state::RolloutStatus::done);
  CHECK(live_images(w).size() == 3);
  for (const auto& [name, image] : live_images(w)) {
    CHECK(image == "img-2");
  }
}

TEST_CASE("web instances spread evenly over the cluster's zones, and a scale-in keeps them "
          "balanced",
          "[engine][zones]")
{
  World w(0);
  w.cluster.availability_zones = {"az-a", "az-b", "az-c"};
  w.cluster.desired = 5;
  REQUIRE(w.reconcile());
  const auto zones = [&] {
    std::map<std::string, int> n;
    for (const auto& i : w.instances()) {
      if (i.role == state::Role::web && state::counts_toward_size(i.state)) {
        ++n[i.availability_zone];
      }
    }
    return n;
  };
  CHECK(zones() == std::map<std::string, int>{{"az-a", 2}, {"az-b", 2}, {"az-c", 1}});
  CHECK(w.instance("shop-web-1").availability_zone == "az-a");
  CHECK(w.instance("shop-web-3").availability_zone == "az-c");
  CHECK(w.instance("shop-lb-1").availability_zone.empty());
  // Zone b loses its instances (as if the zone failed): their replacements go to b first.
  w.boot.dead = {"shop-web-2", "shop-web-5"};
  REQUIRE(w.reconcile(engine::Step::grow));
  CHECK(w.instance("shop-web-6").availability_zone == "az-b");
  CHECK(w.instance("shop-web-7").availability_zone == "az-b");
  // Skew it by hand: a holds 3 (1, 4 and a new 8), b 2, c 1. Newest first would drain 8 then 7;
  // balancing drains from a, the fullest, then from a or b.
  w.cluster.desired = 6;
  REQUIRE(w.reconcile(engine::Step::grow));
  CHECK(w.instance("shop-web-8").availability_zone == "az-c");
  auto s = state::Stmt::prepare(w.store->db(),
                                "UPDATE instances SET availability_zone = 'az-a' WHERE name = "
                                "'shop-web-8'");
  REQUIRE(s);
  REQUIRE(s->run());
  CHECK(zones() == std::map<std::string, int>{{"az-a", 3}, {"az-b", 2}, {"az-c", 1}});
  w.cluster.desired = 3;
  auto e = w.engine();
  const auto victims = e.drain_excess(w.cluster);
  REQUIRE(victims);
  CHECK(*victims == names({"shop-web-8", "shop-web-7", "shop-web-4"}));
  CHECK(zones() == std::map<std::string, int>{{"az-a", 1}, {"az-b", 1}, {"az-c", 1}});
  auto why = w.store->victims(w.cluster.id, 1);
  REQUIRE(why);
  CHECK(why->front().reason.find("zone 'az-a' has the most live web instances (2)") == 0);
}

} // namespace unit_test_engine
