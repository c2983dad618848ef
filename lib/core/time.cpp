#include "core/time.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace core {

namespace chr = std::chrono;

CivilTime civil_from_seconds(std::int64_t seconds)
{
  const chr::sys_seconds t{chr::seconds{seconds}};
  const auto day = chr::floor<chr::days>(t);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss hms{t - day};
  CivilTime c;
  c.year = int(ymd.year());
  c.month = int(unsigned(ymd.month()));
  c.day = int(unsigned(ymd.day()));
  c.weekday = int(chr::weekday{day}.c_encoding());
  c.hour = int(hms.hours().count());
  c.minute = int(hms.minutes().count());
  c.second = int(hms.seconds().count());
  return c;
}

std::int64_t days_from_civil(std::int64_t y, int m, int d)
{
  const chr::sys_days day{chr::year{int(y)} / chr::month{unsigned(m)} / chr::day{unsigned(d)}};
  return day.time_since_epoch().count();
}

int days_in_month(std::int64_t y, int m)
{
  const chr::year_month_day_last last{chr::year{int(y)} / chr::month{unsigned(m)} / chr::last};
  return int(unsigned(last.day()));
}

std::string iso8601_utc(std::int64_t ms)
{
  const auto c = civil_from_seconds(chr::floor<chr::seconds>(chr::milliseconds{ms}).count());
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.year, c.month, c.day, c.hour,
                     c.minute, c.second);
}

std::optional<std::int64_t> epoch_seconds_to_ms(double seconds)
{
  // The negated test also refuses NaN.
  if (!(seconds >= 0 && seconds <= static_cast<double>(k_last_epoch_second))) {
    return std::nullopt;
  }
  return std::llround(seconds * 1000.0);
}

std::optional<std::int64_t> parse_iso8601(std::string_view text)
{
  const std::string whole(text);
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(whole.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &consumed)
        != 3
      || consumed != 10) {
    return std::nullopt;
  }
  std::string rest(text.substr(10));
  if (!rest.empty()) {
    if (rest[0] != 'T' && rest[0] != ' ') {
      return std::nullopt;
    }
    int n = 0;
    if (std::sscanf(rest.c_str() + 1, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &n) != 2 || n != 5) {
      return std::nullopt;
    }
    rest = rest.substr(1 + 5);
    if (rest.size() >= 3 && rest[0] == ':') {
      if (std::sscanf(rest.c_str() + 1, "%2d%n", &tm.tm_sec, &n) != 1 || n != 2) {
        return std::nullopt;
      }
      rest = rest.substr(3);
    }
  }
  long offset_s = 0;
  if (rest == "Z" || rest.empty()) {
    offset_s = 0;
  } else if (rest[0] == '+' || rest[0] == '-') {
    int hh = 0;
    int mm = 0;
    int n = 0;
    if ((std::sscanf(rest.c_str() + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5)
        && (std::sscanf(rest.c_str() + 1, "%2d%2d%n", &hh, &mm, &n) != 2 || n != 4)) {
      return std::nullopt;
    }
    if (size_t(n) + 1 != rest.size() || hh > 23 || mm > 59) {
      return std::nullopt;
    }
    offset_s = (rest[0] == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
  } else {
    return std::nullopt;
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23
      || tm.tm_min > 59 || tm.tm_sec > 59 || tm.tm_year < 1970) {
    return std::nullopt;
  }
  const int mday = tm.tm_mday;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t t = timegm(&tm);
  if (tm.tm_mday != mday) {
    return std::nullopt;  // timegm normalised a day the month does not have (2026-02-30)
  }
  const auto ms = (std::int64_t(t) - offset_s) * 1000;
  if (ms < 0) {
    return std::nullopt;
  }
  return ms;
}

} // namespace core
