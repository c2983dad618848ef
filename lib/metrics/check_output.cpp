#include "metrics/check_output.hpp"

#include "core/time.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace metrics {

namespace {

bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Parse a leading decimal number of `text` (strtod syntax, no inf/nan words); return it and
// how many characters it took.
std::optional<std::pair<double, size_t>> leading_number(std::string_view text)
{
  if (text.empty()) {
    return std::nullopt;
  }
  const char c = text.front();
  if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.')) {
    return std::nullopt;
  }
  const std::string s(text.substr(0, 64));
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return std::pair{v, static_cast<size_t>(end - s.c_str())};
}

// Return the perfdata part of Nagios plugin output: after the first `|` of the first line, and
// after a `|` in the long output (which then runs to the end).
std::string perfdata_of(std::string_view output)
{
  std::string perf;
  const auto eol = output.find('\n');
  const auto first = output.substr(0, eol);
  if (const auto bar = first.find('|'); bar != std::string_view::npos) {
    perf.append(first.substr(bar + 1));
  }
  if (eol != std::string_view::npos) {
    const auto rest = output.substr(eol + 1);
    if (const auto bar = rest.find('|'); bar != std::string_view::npos) {
      perf += ' ';
      perf.append(rest.substr(bar + 1));
    }
  }
  return perf;
}

struct PerfItem
{
  std::string label;
  std::string value;  // with its unit
};

std::vector<PerfItem> perf_items(std::string_view perf)
{
  std::vector<PerfItem> items;
  size_t i = 0;
  while (i < perf.size()) {
    while (i < perf.size() && is_space(perf[i])) {
      ++i;
    }
    if (i >= perf.size()) {
      break;
    }
    PerfItem item;
    if (perf[i] == '\'') {
      // A quoted label; '' stands for one quote.
      ++i;
      while (i < perf.size()) {
        if (perf[i] == '\'') {
          if (i + 1 < perf.size() && perf[i + 1] == '\'') {
            item.label += '\'';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        item.label += perf[i++];
      }
    } else {
      while (i < perf.size() && perf[i] != '=' && !is_space(perf[i])) {
        item.label += perf[i++];
      }
    }
    if (i >= perf.size() || perf[i] != '=') {
      // Not a perfdata item: skip the word.
      while (i < perf.size() && !is_space(perf[i])) {
        ++i;
      }
      continue;
    }
    ++i;
    while (i < perf.size() && perf[i] != ';' && !is_space(perf[i])) {
      item.value += perf[i++];
    }
    while (i < perf.size() && !is_space(perf[i])) {
      ++i;  // warn;crit;min;max
    }
    items.push_back(std::move(item));
  }
  return items;
}

} // namespace

std::optional<OutputFormat> output_format_from(std::string_view name)
{
  if (name == "auto") {
    return OutputFormat::auto_detect;
  }
  if (name == "nagios") {
    return OutputFormat::nagios;
  }
  if (name == "graphite") {
    return OutputFormat::graphite;
  }
  if (name == "check_load") {
    return OutputFormat::check_load;
  }
  if (name == "status") {
    return OutputFormat::status;
  }
  return std::nullopt;
}

bool metric_name_matches(std::string_view name, std::string_view wanted)
{
  if (wanted.empty()) {
    return false;
  }
  if (name == wanted) {
    return true;
  }
  return name.size() > wanted.size() && name.substr(name.size() - wanted.size()) == wanted
         && name[name.size() - wanted.size() - 1] == '.';
}

std::optional<CheckValue> parse_nagios_perfdata(std::string_view output,
                                                const std::vector<std::string>& names)
{
  const auto items = perf_items(perfdata_of(output));
  for (const auto& wanted : names) {
    for (const auto& item : items) {
      if (item.label != wanted) {
        continue;
      }
      if (auto n = leading_number(item.value)) {
        return CheckValue{n->first, std::nullopt};
      }
    }
  }
  return std::nullopt;
}

std::optional<CheckValue> parse_graphite(std::string_view output,
                                         const std::vector<std::string>& names)
{
  struct Line
  {
    std::string_view path;
    double value;
    std::optional<core::Millis> ts;
  };
  std::vector<Line> lines;
  size_t start = 0;
  while (start < output.size()) {
    auto end = output.find('\n', start);
    if (end == std::string_view::npos) {
      end = output.size();
    }
    auto line = output.substr(start, end - start);
    start = end + 1;
    std::vector<std::string_view> fields;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && is_space(line[i])) {
        ++i;
      }
      const auto f = i;
      while (i < line.size() && !is_space(line[i])) {
        ++i;
      }
      if (i > f) {
        fields.push_back(line.substr(f, i - f));
      }
    }
    if (fields.size() < 2 || fields.size() > 3) {
      continue;
    }
    const auto v = leading_number(fields[1]);
    if (!v || v->second != fields[1].size()) {
      continue;
    }
    Line l{fields[0], v->first, std::nullopt};
    if (fields.size() == 3) {
      const auto t = leading_number(fields[2]);
      if (!t || t->second != fields[2].size() || t->first < 0) {
        continue;
      }
      // A time no clock shows (1e300) leaves the line out, as a negative one does.
      const auto ms = core::epoch_seconds_to_ms(t->first);
      if (!ms) {
        continue;
      }
      l.ts = *ms;
    }
    lines.push_back(l);
  }
  for (const auto& wanted : names) {
    for (const auto& l : lines) {
      if (metric_name_matches(l.path, wanted)) {
        return CheckValue{l.value, l.ts};
      }
    }
  }
  return std::nullopt;
}

std::optional<double> parse_check_load(std::string_view output)
{
  std::string lower(output);
  for (auto& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const auto at = lower.find("load average");
  if (at == std::string::npos) {
    return std::nullopt;
  }
  const auto colon = lower.find(':', at);
  const auto eol = lower.find('\n', at);
  if (colon == std::string::npos || (eol != std::string::npos && colon > eol)) {
    return std::nullopt;
  }
  auto rest = std::string_view(output).substr(colon + 1);
  while (!rest.empty() && (is_space(rest.front()) || rest.front() == '[')) {
    rest.remove_prefix(1);
  }
  if (auto n = leading_number(rest)) {
    return n->first;
  }
  return std::nullopt;
}

core::Result<CheckValue> parse_check_output(std::string_view output,
                                            OutputFormat format,
                                            const std::vector<std::string>& names)
{
  auto wanted = [&] {
    std::string list;
    for (const auto& n : names) {
      list += (list.empty() ? "" : ", ") + n;
    }
    return list;
  };
  const bool any = format == OutputFormat::auto_detect;
  if (any || format == OutputFormat::nagios) {
    if (auto v = parse_nagios_perfdata(output, names)) {
      return *v;
    }
  }
  if (any || format == OutputFormat::graphite) {
    if (auto v = parse_graphite(output, names)) {
      return *v;
    }
  }
  if (any || format == OutputFormat::check_load) {
    if (auto v = parse_check_load(output)) {
      return CheckValue{*v, std::nullopt};
    }
  }
  if (format == OutputFormat::check_load) {
    return core::fail(core::ErrorKind::upstream_rejected,
                      "no load average in the check output", "sensu");
  }
  const char* what = format == OutputFormat::nagios     ? "no perfdata"
                     : format == OutputFormat::graphite ? "no graphite metric"
                                                        : "no perfdata or graphite metric";
  return core::fail(core::ErrorKind::upstream_rejected,
                    fmt::format("{} named '{}'{} in the check output", what, wanted(),
                                any ? " and no load average" : ""),
                    "sensu");
}

std::vector<std::string> split_names(std::string_view list)
{
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(',', start);
    if (end == std::string_view::npos) {
      end = list.size();
    }
    auto item = list.substr(start, end - start);
    while (!item.empty() && is_space(item.front())) {
      item.remove_prefix(1);
    }
    while (!item.empty() && is_space(item.back())) {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      out.emplace_back(item);
    }
    start = end + 1;
  }
  return out;
}

} // namespace metrics
