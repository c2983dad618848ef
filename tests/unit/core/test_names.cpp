#include "core/log.hpp"
#include "core/names.hpp"

#include <catch2/catch.hpp>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_names {

TEST_CASE("accepts cluster names that are safe in config, paths and cloud names", "[core]")
{
  for (const char* name : {"a", "shop", "web-1", "a0-b1-c2", "abcdefghijklmnopqrstuvwxyz01234"}) {
    INFO(name);
    CHECK(core::validate_cluster_name(name));
  }
}

TEST_CASE("rejects cluster names that could inject into nginx config or paths", "[core]")
{
  for (const char* name : {"", "1abc", "-abc", "Shop", "a_b", "a b", "a;b", "a/b", "../etc",
                           "a.b", "a\nb", "abcdefghijklmnopqrstuvwxyz012345", "a$b", "a}b"}) {
    INFO(name);
    const auto r = core::validate_cluster_name(name);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == core::ErrorKind::usage);
  }
}

TEST_CASE("a cloud object id is 1 to 64 letters, digits and dashes; nothing else", "[core]")
{
  CHECK(core::validate_object_id("4f1c2a3b-0000-4d5e-8f9a-1b2c3d4e5f60"));
  CHECK(core::validate_object_id(std::string(64, 'a')));
  for (const std::string& bad : {std::string(), std::string(65, 'a'), std::string("../x"),
                                std::string("a b"), std::string("id\n"), std::string("a;b"),
                                std::string("a\0b", 3), std::string("\xc3\xa9")}) {
    INFO(bad);
    const auto r = core::validate_object_id(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("invalid object id") == 0);
  }
}

TEST_CASE("names instances deterministically", "[core]")
{
  CHECK(core::instance_name("shop", "web", 3) == "shop-web-3");
  CHECK(core::instance_name("shop", "lb", 1) == "shop-lb-1");
}

TEST_CASE("accepts the instance names instance_name makes", "[core]")
{
  for (const char* name : {"shop-web-3", "shop-lb-1", "a-web-1", "web-lb-web-12",
                           "abcdefghijklmnopqrstuvwxyz01234-web-999999999999999999"}) {
    INFO(name);
    CHECK(core::validate_instance_name(name));
  }
}

TEST_CASE("rejects instance names that could leave a directory or inject config", "[core]")
{
  for (const char* name : {"", "shop", "shop-web", "shop-web-", "shop-web-0", "shop-web-01",
                           "shop-db-1", "-web-1", "web-1", "../../etc", "../../etc-web-1",
                           "shop/x-web-1", ".-web-1", "shop-web-1/..", "shop-web-1 ", "Shop-web-1",
                           "shop-web-1\n", "shop-web-x1", "shop-web-1000000000000000000",
                           "abcdefghijklmnopqrstuvwxyz012345-web-1", "shop;-lb-1", "shop-lb-+1"}) {
    INFO(name);
    const auto r = core::validate_instance_name(name);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == core::ErrorKind::usage);
  }
}

TEST_CASE("escapes control characters in quoted user input", "[core]")
{
  CHECK(core::printable("a\nb") == "a\\x0ab");
}

TEST_CASE("ages read as seconds, minutes, hours, then days", "[core]")
{
  CHECK(core::human_age(0) == "0s");
  CHECK(core::human_age(119'999) == "119s");
  CHECK(core::human_age(120'000) == "2m");
  CHECK(core::human_age(7'199'000) == "119m");
  CHECK(core::human_age(7'200'000) == "2h");
  CHECK(core::human_age(172'800'000) == "2d");
}

TEST_CASE("a zone list is distinct printable names separated by commas, nothing else", "[core]")
{
  CHECK(core::parse_zone_list("").value().empty());
  CHECK(core::parse_zone_list("  ").value().empty());
  CHECK(core::parse_zone_list("nova").value() == std::vector<std::string>{"nova"});
  CHECK(core::parse_zone_list(" az-1 ,az 2,AZ_3 ").value()
        == std::vector<std::string>{"az-1", "az 2", "AZ_3"});
  CHECK(core::zone_list_text({"az-1", "az 2"}) == "az-1,az 2");
  CHECK(core::parse_zone_list(core::zone_list_text({"a", "b"})).value()
        == std::vector<std::string>{"a", "b"});
  std::string many;
  for (int k = 0; k < 17; ++k) {
    many += "z" + std::to_string(k) + ",";
  }
  many.pop_back();
  for (const std::string& hostile :
       {std::string("a,,b"), std::string("a,"), std::string(",a"), std::string("a,a"),
        std::string("a\nb"), std::string("a\x1b[2Jb"), std::string("a\0b", 3),
        std::string(256, 'z'), std::string("caf\xc3\xa9"), many}) {
    const auto z = core::parse_zone_list(hostile);
    REQUIRE_FALSE(z);
    CHECK(z.error().kind == core::ErrorKind::usage);
    CHECK(z.error().message.find('\n') == std::string::npos);
    CHECK(z.error().message.find('\x1b') == std::string::npos);
  }
}

} // namespace unit_test_names
