#include "lb/nginx.hpp"
#include "local/nginx.hpp"
#include "../core/fake_clock.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_nginx_balancer {

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

} // namespace unit_test_nginx_balancer
