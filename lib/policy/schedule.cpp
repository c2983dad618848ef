#include "policy/schedule.hpp"

#include "core/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>

namespace policy {

namespace {

constexpr Millis k_minute_ms = 60'000;
constexpr std::int64_t k_day_s = 86'400;
// A schedule entry older than this no longer counts; cron entries fire at least weekly in
// practice, and the bound keeps the backwards search cheap.
constexpr int k_search_minutes = 8 * 24 * 60;

using core::civil_from_seconds;
using core::days_from_civil;
using core::days_in_month;
using Civil = core::CivilTime;

std::int64_t floor_div(std::int64_t a, std::int64_t b)
{
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// ---- cron ----

struct CronSpec
{
  std::uint64_t minute = 0;
  std::uint64_t hour = 0;
  std::uint64_t dom = 0;
  std::uint64_t month = 0;
  std::uint64_t dow = 0;
  bool dom_any = true;
  bool dow_any = true;
};

std::optional<int> parse_int(std::string_view s)
{
  int v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep)
{
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) {
      return out;
    }
    start = pos + 1;
  }
}

// Parse one cron field ("*", "1-5", "*/15", "0,30", "8-18/2") into a bit set over [lo, hi].
core::Result<std::uint64_t> parse_field(std::string_view field, int lo, int hi, const char* name)
{
  const auto bad = [&] {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("invalid cron {} field '{}'", name, field));
  };
  std::uint64_t bits = 0;
  for (const auto part : split(field, ',')) {
    auto range = part;
    int step = 1;
    if (const auto slash = part.find('/'); slash != std::string_view::npos) {
      const auto s = parse_int(part.substr(slash + 1));
      if (!s || *s < 1) {
        return bad();
      }
      step = *s;
      range = part.substr(0, slash);
    }
    int first = lo;
    int last = hi;
    if (range != "*") {
      const auto dash = range.find('-');
      const auto a = parse_int(range.substr(0, dash));
      if (!a) {
        return bad();
      }
      first = *a;
      last = *a;
      if (dash != std::string_view::npos) {
        const auto b = parse_int(range.substr(dash + 1));
        if (!b) {
          return bad();
        }
        last = *b;
      } else if (part.find('/') != std::string_view::npos) {
        last = hi;  // "5/15" means from 5 to the end in steps of 15
      }
    }
    if (first < lo || last > hi || first > last) {
      return bad();
    }
    for (int v = first; v <= last; v += step) {
      bits |= std::uint64_t(1) << v;
    }
  }
  return bits;
}

core::Result<CronSpec> parse_cron(std::string_view cron)
{
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < cron.size()) {
    while (i < cron.size() && std::isspace(static_cast<unsigned char>(cron[i]))) {
      ++i;
    }
    const size_t start = i;
    while (i < cron.size() && !std::isspace(static_cast<unsigned char>(cron[i]))) {
      ++i;
    }
    if (i > start) {
      fields.push_back(cron.substr(start, i - start));
    }
  }
  if (fields.size() != 5) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("invalid cron expression '{}': expected 5 fields", cron));
  }
  CronSpec c;
  TRY_ASSIGN(c.minute, parse_field(fields[0], 0, 59, "minute"));
  TRY_ASSIGN(c.hour, parse_field(fields[1], 0, 23, "hour"));
  TRY_ASSIGN(c.dom, parse_field(fields[2], 1, 31, "day-of-month"));
  TRY_ASSIGN(c.month, parse_field(fields[3], 1, 12, "month"));
  TRY_ASSIGN(c.dow, parse_field(fields[4], 0, 7, "day-of-week"));
  if (c.dow & (std::uint64_t(1) << 7)) {
    c.dow |= 1;  // 7 is Sunday too
  }
  c.dom_any = fields[2] == "*";
  c.dow_any = fields[4] == "*";
  return c;
}

bool has(std::uint64_t bits, int v)
{
  return (bits >> v) & 1U;
}

bool matches(const CronSpec& c, const Civil& t)
{
  if (!has(c.minute, t.minute) || !has(c.hour, t.hour) || !has(c.month, t.month)) {
    return false;
  }
  // Vixie cron: when both day fields are restricted, either may match.
  const bool dom = has(c.dom, t.day);
  const bool dow = has(c.dow, t.weekday);
  if (!c.dom_any && !c.dow_any) {
    return dom || dow;
  }
  return dom && dow;
}

// ---- time zones ----

struct Rule
{
  int month = 3;
  int week = 5;  // 5 = last
  int wday = 0;
  int time_s = 7200;
};

struct Zone
{
  int std_offset_s = 0;  // local - UTC
  std::optional<int> dst_offset_s;
  Rule start;
  Rule end;
};

class Scanner
{
public:
  explicit Scanner(std::string_view s) : m_s(s) {}
  bool done() const { return m_pos >= m_s.size(); }
  char peek() const { return done() ? '\0' : m_s[m_pos]; }
  bool eat(char c)
  {
    if (peek() == c) {
      ++m_pos;
      return true;
    }
    return false;
  }
  std::optional<int> number()
  {
    size_t start = m_pos;
    while (!done() && std::isdigit(static_cast<unsigned char>(peek()))) {
      ++m_pos;
    }
    return parse_int(m_s.substr(start, m_pos - start));
  }
  bool name()
  {
    if (eat('<')) {
      while (!done() && peek() != '>') {
        ++m_pos;
      }
      return eat('>');
    }
    size_t start = m_pos;
    while (!done() && std::isalpha(static_cast<unsigned char>(peek()))) {
      ++m_pos;
    }
    return m_pos - start >= 3;
  }
  // [+-]hh[:mm[:ss]] in seconds.
  std::optional<int> hms()
  {
    int sign = 1;
    if (eat('-')) {
      sign = -1;
    } else {
      eat('+');
    }
    const auto h = number();
    if (!h || *h > 167) {
      return std::nullopt;
    }
    int s = *h * 3600;
    for (int mul : {60, 1}) {
      if (!eat(':')) {
        break;
      }
      const auto v = number();
      if (!v || *v > 59) {
        return std::nullopt;
      }
      s += *v * mul;
    }
    return sign * s;
  }

private:
  std::string_view m_s;
  size_t m_pos = 0;
};

std::optional<Rule> parse_rule(Scanner& sc)
{
  Rule r;
  if (!sc.eat('M')) {
    return std::nullopt;  // only the Mm.w.d form is supported
  }
  const auto m = sc.number();
  if (!m || *m < 1 || *m > 12 || !sc.eat('.')) {
    return std::nullopt;
  }
  const auto w = sc.number();
  if (!w || *w < 1 || *w > 5 || !sc.eat('.')) {
    return std::nullopt;
  }
  const auto d = sc.number();
  if (!d || *d > 6) {
    return std::nullopt;
  }
  r.month = *m;
  r.week = *w;
  r.wday = *d;
  if (sc.eat('/')) {
    const auto t = sc.hms();
    if (!t) {
      return std::nullopt;
    }
    r.time_s = *t;
  }
  return r;
}

std::optional<Zone> parse_zone(std::string_view tz)
{
  Zone z;
  if (tz == "UTC" || tz == "Z" || tz.empty()) {
    return z;
  }
  if (tz[0] == '+' || tz[0] == '-') {
    // A fixed offset in ISO style: +02:00, -0530, +2. East of UTC is positive.
    std::string text(tz);
    if (tz.size() == 5 && tz.find(':') == std::string_view::npos) {
      text = fmt::format("{}:{}", tz.substr(0, 3), tz.substr(3));
    }
    Scanner sc(text);
    const auto off = sc.hms();
    if (!off || !sc.done() || *off > 18 * 3600 || *off < -18 * 3600) {
      return std::nullopt;
    }
    z.std_offset_s = *off;
    return z;
  }
  // POSIX TZ: offsets count west of UTC as positive, the opposite of ISO.
  Scanner sc(tz);
  if (!sc.name()) {
    return std::nullopt;
  }
  const auto std_off = sc.hms();
  if (!std_off) {
    return std::nullopt;
  }
  z.std_offset_s = -*std_off;
  if (sc.done()) {
    return z;
  }
  if (!sc.name()) {
    return std::nullopt;
  }
  z.dst_offset_s = z.std_offset_s + 3600;
  if (sc.peek() != ',') {
    const auto dst_off = sc.hms();
    if (!dst_off) {
      return std::nullopt;
    }
    z.dst_offset_s = -*dst_off;
  }
  if (!sc.eat(',')) {
    return std::nullopt;  // a DST zone needs its rules: no tz database is read
  }
  const auto start = parse_rule(sc);
  if (!start || !sc.eat(',')) {
    return std::nullopt;
  }
  const auto end = parse_rule(sc);
  if (!end || !sc.done()) {
    return std::nullopt;
  }
  z.start = *start;
  z.end = *end;
  return z;
}

// Return the local-time second of year `y` at which `r` happens (in the clock it is given in).
std::int64_t rule_local_seconds(std::int64_t y, const Rule& r)
{
  const std::int64_t first = days_from_civil(y, r.month, 1);
  const int wd_first = civil_from_seconds(first * k_day_s).weekday;
  int day = 1 + (r.wday - wd_first + 7) % 7 + (r.week - 1) * 7;
  while (day > days_in_month(y, r.month)) {
    day -= 7;
  }
  return (first + day - 1) * k_day_s + r.time_s;
}

int offset_at(const Zone& z, Millis utc_ms)
{
  if (!z.dst_offset_s) {
    return z.std_offset_s;
  }
  const std::int64_t utc = floor_div(utc_ms, 1000);
  const std::int64_t year = civil_from_seconds(utc + z.std_offset_s).year;
  const std::int64_t start = rule_local_seconds(year, z.start) - z.std_offset_s;
  const std::int64_t end = rule_local_seconds(year, z.end) - *z.dst_offset_s;
  const bool dst = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);
  return dst ? *z.dst_offset_s : z.std_offset_s;
}

} // namespace

core::Result<void> validate_cron(std::string_view cron)
{
  TRY(parse_cron(cron));
  return {};
}

core::Result<void> validate_tz(std::string_view tz)
{
  if (!parse_zone(tz)) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("invalid time zone '{}': expected UTC, an offset such as "
                                  "+02:00, or a POSIX TZ rule such as CET-1CEST,M3.5.0,M10.5.0/3",
                                  tz));
  }
  return {};
}

int utc_offset_s(std::string_view tz, Millis utc)
{
  const auto z = parse_zone(tz);
  return z ? offset_at(*z, utc) : 0;
}

bool cron_matches(std::string_view cron, std::string_view tz, Millis utc)
{
  const auto spec = parse_cron(cron);
  const auto z = parse_zone(tz);
  if (!spec || !z) {
    return false;
  }
  return matches(*spec, civil_from_seconds(floor_div(utc, 1000) + offset_at(*z, utc)));
}

Bounds size_range(const PolicyConfig& config)
{
  Bounds b;
  b.min_size = config.min_size;
  b.max_size = config.max_size;
  for (const auto& e : config.schedule) {
    b.min_size = std::min(b.min_size, e.min_size);
    b.max_size = std::max(b.max_size, e.max_size);
  }
  return b;
}

core::Result<void> check_ceiling(const PolicyConfig& config, int ceiling)
{
  const auto range = size_range(config);
  if (range.max_size > ceiling) {
    return core::fail(core::ErrorKind::usage,
                      fmt::format("max {} is above the ceiling of {} instances ([MANAGER] "
                                  "man_max_instances)",
                                  range.max_size, ceiling));
  }
  return {};
}

Bounds bounds_at(const PolicyConfig& config, Millis now)
{
  Bounds b;
  b.min_size = config.min_size;
  b.max_size = config.max_size;
  const Millis minute = floor_div(now, k_minute_ms) * k_minute_ms;
  for (const auto& e : config.schedule) {
    const auto spec = parse_cron(e.cron);
    const auto z = parse_zone(e.tz);
    if (!spec || !z) {
      continue;  // validate() rejects these; a stored bad entry is ignored, not fatal
    }
    for (int i = 0; i < k_search_minutes; ++i) {
      const Millis t = minute - Millis(i) * k_minute_ms;
      if (b.entry && t <= b.since) {
        break;
      }
      if (matches(*spec, civil_from_seconds(floor_div(t, 1000) + offset_at(*z, t)))) {
        b.min_size = e.min_size;
        b.max_size = e.max_size;
        b.entry = &e;
        b.since = t;
        break;
      }
    }
  }
  return b;
}

} // namespace policy
