#include "report/textfile.hpp"

#include "report/views.hpp"

#include "core/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>

namespace report {

namespace {

struct Family
{
  const char* help;
  const char* type;
};

const std::map<std::string, Family>& families()
{
  static const std::map<std::string, Family> f = {
    {"sclman_last_run_timestamp_seconds", {"When each command last ended.", "gauge"}},
    {"sclman_last_run_exit_code", {"Exit status of each command's last run.", "gauge"}},
    {"sclman_last_run_success", {"1 if each command's last run exited 0.", "gauge"}},
    {"sclman_last_run_duration_seconds", {"How long each command's last run took.", "gauge"}},
    {"sclman_last_success_timestamp_seconds",
     {"When each command last exited 0.", "gauge"}},
    {"sclman_decisions_total", {"Decisions recorded, by action.", "counter"}},
    {"sclman_actions_total", {"Side effects carried out, by operation and outcome.", "counter"}},
    {"sclman_errors_total", {"Runs that ended in an error, by command and kind.", "counter"}},
    {"sclman_cluster_size", {"Web instances in service.", "gauge"}},
    {"sclman_cluster_desired", {"Web instances the cluster converges to.", "gauge"}},
    {"sclman_cluster_min", {"The cluster's minimum size.", "gauge"}},
    {"sclman_cluster_max", {"The cluster's maximum size.", "gauge"}},
    {"sclman_cluster_rejected",
     {"Nodes kept out of the LB because their address did not parse.", "gauge"}},
  };
  return f;
}

std::string escape_label(const std::string& v)
{
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Family -> its samples ("{labels} value"), so that each family's samples stand together under
// one HELP and TYPE.
using Lines = std::map<std::string, std::vector<std::string>>;

std::string command_label(const std::string& command)
{
  return fmt::format("command=\"{}\"", escape_label(command));
}

// Add the samples of how `r` ended (its command's last run) to `lines`.
void add_run(Lines& lines, const state::RunRecord& r)
{
  const auto label = command_label(r.command);
  lines["sclman_last_run_timestamp_seconds"].push_back(
    fmt::format("{{{}}} {:.3f}", label, static_cast<double>(r.ts) / 1000.0));
  lines["sclman_last_run_exit_code"].push_back(fmt::format("{{{}}} {}", label, r.exit_code));
  lines["sclman_last_run_success"].push_back(
    fmt::format("{{{}}} {}", label, r.exit_code == 0 ? 1 : 0));
  lines["sclman_last_run_duration_seconds"].push_back(
    fmt::format("{{{}}} {:.3f}", label, static_cast<double>(r.duration_ms) / 1000.0));
  if (r.last_success) {
    lines["sclman_last_success_timestamp_seconds"].push_back(
      fmt::format("{{{}}} {:.3f}", label, static_cast<double>(*r.last_success) / 1000.0));
  }
}

std::string render(const Lines& lines)
{
  std::string out;
  for (const auto& [name, samples] : lines) {
    const auto& family = families().at(name);
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, family.help, name, family.type);
    for (const auto& s : samples) {
      out += name + s + "\n";
    }
  }
  return out;
}

// Return the value of `sample` if it is one as render_textfile writes them (" VALUE" or
// "{LABELS} VALUE", printable ASCII, VALUE a finite number, never negative: every family counts
// or dates something), else nothing.
std::optional<double> sample_value(std::string_view sample)
{
  if (std::any_of(sample.begin(), sample.end(), [](char c) { return c < 0x20 || c > 0x7e; })) {
    return std::nullopt;
  }
  std::size_t value = 1;
  if (sample.starts_with("{")) {
    const auto close = sample.find("} ");
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    value = close + 2;
  } else if (!sample.starts_with(" ")) {
    return std::nullopt;
  }
  const auto parsed = core::parse_double_in(sample.substr(value), 0, 1e300);
  return parsed ? std::optional<double>(*parsed) : std::nullopt;
}

} // namespace

std::string merge_run(const std::string& existing, const state::RunRecord& run)
{
  Lines lines;
  const auto label = "{" + command_label(run.command) + "}";
  auto last = run;
  std::size_t at = 0;
  while (at < existing.size()) {
    const auto end = std::min(existing.find('\n', at), existing.size());
    const auto line = existing.substr(at, end - at);
    at = end + 1;
    const auto name_end = line.find_first_of("{ ");
    if (line.empty() || line[0] == '#' || name_end == std::string::npos) {
      continue;
    }
    const auto name = line.substr(0, name_end);
    const auto sample = line.substr(name_end);
    if (families().count(name) == 0 || !sample_value(sample)) {
      continue;  // not sclman's, or not as sclman writes it: dropped rather than trusted
    }
    if (sample.rfind(label + " ", 0) == 0 && name.rfind("sclman_last_", 0) == 0) {
      if (name == "sclman_last_success_timestamp_seconds" && !last.last_success) {
        // Seconds since the epoch, up to the year 5000; anything else is dropped.
        if (const auto secs = core::parse_double_in(sample.substr(label.size() + 1), 0, 1e11)) {
          last.last_success = static_cast<core::Millis>(*secs * 1000.0 + 0.5);
        }
      }
      continue;  // this command's: replaced below
    }
    lines[name].push_back(sample);
  }
  add_run(lines, last);
  return render(lines);
}

std::string render_textfile(const std::vector<state::Counter>& counters,
                            const std::vector<state::RunRecord>& runs,
                            const std::vector<ClusterGauge>& clusters)
{
  Lines lines;
  for (const auto& r : runs) {
    add_run(lines, r);
  }
  for (const auto& c : counters) {
    if (families().count(c.name) == 0) {
      continue;
    }
    lines[c.name].push_back(fmt::format("{{{}}} {}", c.labels, c.value));
  }
  for (const auto& c : clusters) {
    const auto label = fmt::format("cluster=\"{}\"", escape_label(c.name));
    lines["sclman_cluster_size"].push_back(fmt::format("{{{}}} {}", label, c.size));
    lines["sclman_cluster_desired"].push_back(fmt::format("{{{}}} {}", label, c.desired));
    lines["sclman_cluster_min"].push_back(fmt::format("{{{}}} {}", label, c.min));
    lines["sclman_cluster_max"].push_back(fmt::format("{{{}}} {}", label, c.max));
    lines["sclman_cluster_rejected"].push_back(fmt::format("{{{}}} {}", label, c.rejected));
  }
  return render(lines);
}

core::Result<std::string> textfile_of(state::Store& store)
{
  TRY_ASSIGN(const auto counters, store.counters());
  TRY_ASSIGN(const auto runs, store.runs());
  TRY_ASSIGN(const auto clusters, store.clusters());
  std::vector<ClusterGauge> gauges;
  for (const auto& c : clusters) {
    TRY_ASSIGN(const auto view, cluster_json(store, c, false));
    gauges.push_back({c.name, view["size"].get<int>(), c.desired, view["min"].get<int>(),
                      view["max"].get<int>(), static_cast<int>(view["rejected"].size())});
  }
  return render_textfile(counters, runs, gauges);
}

} // namespace report
