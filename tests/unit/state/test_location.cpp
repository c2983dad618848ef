// [STATE] url and password_file: what reaches libpq, and what errors show.
#include "state/db_internal.hpp"
#include "state/location.hpp"
#include "state/migrate.hpp"
#include "state/store.hpp"
#include "temp_store.hpp"

#include <catch2/catch.hpp>

#include <string>

// The file's own names: the unit tests build in unity batches (tests/CMakeLists.txt).
namespace unit_test_location {

TEST_CASE("a database URL is named by its database, host, port and user, never its whole text",
          "[state]")
{
  auto uri = state::check_database_url("postgresql://sclman@db.example.net:6432/state");
  REQUIRE(uri);
  CHECK(*uri == "'state' on db.example.net:6432 as sclman");
  auto kv = state::check_database_url("host=127.0.0.1 dbname=s user=u passfile=/etc/pw");
  REQUIRE(kv);
  CHECK(*kv == "'s' on 127.0.0.1:5432 as u");
  // A value libpq takes as it is: quoted text, escapes.
  auto quoted = state::check_database_url("host=h dbname='a b' options='-csearch_path=x'");
  REQUIRE(quoted);
  CHECK(*quoted == "'a b' on h:5432");
}

TEST_CASE("a database URL with a password, control characters or no libpq form is a config "
          "error that does not show it",
          "[state]")
{
  for (const std::string& url :
       {std::string("postgresql://u:s3cret@h/db"), std::string("host=h password=s3cret"),
        std::string("postgresql://h/db?password=s3cret"), std::string(),
        std::string("host=h\ndbname=s3cret"), std::string("host=h dbname=s3cret\x1b"),
        std::string("host=h dbname=") + std::string(1100, 'x'), std::string("s3cret"),
        std::string("host=h nosuchkey=s3cret"), std::string("postgresql://[::1/s3cret"),
        std::string("host='h dbname=s3cret")}) {
    CAPTURE(url);
    auto checked = state::check_database_url(url);
    REQUIRE_FALSE(checked);
    CHECK(checked.error().kind == core::ErrorKind::config);
    CHECK_THAT(checked.error().message, Catch::StartsWith("[STATE] url"));
    CHECK_THAT(checked.error().message, !Catch::Contains("s3cret"));
  }
}

TEST_CASE("a password file gives its first line; an empty or unprintable one is a config error",
          "[state]")
{
  CHECK(*state::parse_password_file("pw 'with' \\ quotes\n", "/p") == "pw 'with' \\ quotes");
  CHECK(*state::parse_password_file("crlf\r\nsecond", "/p") == "crlf");
  CHECK(*state::parse_password_file("no newline", "/p") == "no newline");
  for (const std::string& text : {std::string(), std::string("\n"), std::string("\r\n"),
                                 std::string("a\tb"), std::string("a\x7f"),
                                 std::string("\xc3\xa9t\xc3\xa9"), std::string(1025, 'p')}) {
    CAPTURE(text);
    auto parsed = state::parse_password_file(text, "/etc/sclman/pw");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().kind == core::ErrorKind::config);
    CHECK_THAT(parsed.error().message, Catch::Contains("/etc/sclman/pw"));
    if (!text.empty() && text != "\n" && text != "\r\n") {
      CHECK_THAT(parsed.error().message, !Catch::Contains(text));
    }
  }
}

TEST_CASE("placeholders become PostgreSQL's numbered ones, outside quoted text and names",
          "[state]")
{
  int params = 0;
  CHECK(state::number_placeholders("SELECT ? , ?", params) == "SELECT $1 , $2");
  CHECK(params == 2);
  CHECK(state::number_placeholders("VALUES (?1, ?2, ?3, ?4, CASE WHEN ?3 = 0 THEN ?2 END)",
                                   params)
        == "VALUES ($1, $2, $3, $4, CASE WHEN $3 = 0 THEN $2 END)");
  CHECK(params == 4);
  // As SQLite numbers them: a bare ? after ?N is N+1.
  CHECK(state::number_placeholders("?2, ?", params) == "$2, $3");
  CHECK(params == 3);
  CHECK(state::number_placeholders("SELECT '?', \"a?\", 'it''s ?', ?", params)
        == "SELECT '?', \"a?\", 'it''s ?', $1");
  CHECK(params == 1);
  CHECK(state::number_placeholders("SELECT 1", params) == "SELECT 1");
  CHECK(params == 0);
}

TEST_CASE("both backends' migrations end at the same schema version", "[state]")
{
  // A database at version N has the tables and meanings of the file at version N
  // (sql/postgresql/0023_baseline.sql), and migrate-state relies on it.
  CHECK(state::latest_schema_version(state::Backend::postgresql)
        == state::latest_schema_version(state::Backend::sqlite));
  CHECK_FALSE(state::migrations(state::Backend::postgresql).empty());
}

TEST_CASE("a database that cannot be reached is a transient error naming it, without the "
          "password",
          "[state]")
{
  state_test::FixedClock clock;
  state_test::TempDir dir;
  state::Location where;
  where.path = (dir.path / "s.db").string();
  // Nothing listens on port 1 of 127.0.0.1.
  where.url = "host=127.0.0.1 port=1 dbname=nowhere user=u connect_timeout=2";
  where.password = "s3cret";
  auto store = state::Store::open(where, clock);
  REQUIRE_FALSE(store);
  CHECK(store.error().kind == core::ErrorKind::upstream_transient);
  CHECK_THAT(store.error().message,
             Catch::StartsWith("cannot connect to state database 'nowhere' on 127.0.0.1:1 as u"));
  CHECK_THAT(store.error().message, !Catch::Contains("s3cret"));
  // Nothing was made in the state directory.
  CHECK(std::filesystem::is_empty(dir.path));
}

} // namespace unit_test_location
