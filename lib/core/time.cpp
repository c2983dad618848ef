#include "core/time.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

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

} // namespace core
