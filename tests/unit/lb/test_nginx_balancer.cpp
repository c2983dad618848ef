#include "lb/nginx.hpp"
#include "local/nginx.hpp"
#include "../core/fake_clock.hpp"

#include <catch2/catch.hpp>

TEST_CASE("the nginx balancer's health path is where the LB's own config answers", "[lb]")
{
  test::FakeClock clock;
  const lb::NginxBalancer balancer("/nonexistent", "/usr/sbin/nginx", clock);
  const auto path = balancer.health_path();
  REQUIRE_FALSE(path.empty());
  CHECK(path.front() == '/');
  CHECK_THAT(local::render_lb_config("c-lb-1", *core::Endpoint::parse("127.0.0.1:4000"), 512),
             Catch::Contains("location = " + path + " {"));
}
