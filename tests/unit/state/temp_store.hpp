// What unit tests of code over the state file share: a fixed clock and a private directory.
#pragma once

#include "core/clock.hpp"
#include "state/store.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <optional>
#include <string>

#include <stdlib.h>

namespace state_test {

struct FixedClock final : core::Clock
{
  core::Millis t = 1'000'000'000'000;
  core::Millis now() const override { return t; }
  void sleep_for(core::Millis ms) override { t += ms; }
};

// A directory below /tmp, removed with everything in it at the end of the scope.
struct TempDir
{
  std::filesystem::path path;
  TempDir()
  {
    char tmpl[] = "/tmp/sclman-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// A state file in a private directory holding cluster "shop" (policy "{}", desired size 2) on
// `provider` with `bootstrapper`; `cluster.id` is filled in.
struct ShopState
{
  TempDir dir;
  FixedClock clock;
  std::optional<state::Store> store;
  state::Cluster cluster;

  explicit ShopState(std::string provider = "local", std::string bootstrapper = "local")
  {
    auto opened = state::Store::open((dir.path / "s.db").string(), clock);
    REQUIRE(opened);
    store.emplace(std::move(*opened));
    cluster.name = "shop";
    cluster.provider = std::move(provider);
    cluster.bootstrapper = std::move(bootstrapper);
    cluster.policy = "{}";
    cluster.desired = 2;
    cluster.id = store->insert_cluster(cluster).value();
  }
};

} // namespace state_test
