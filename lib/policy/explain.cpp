// A decision's explanation: its JSON form for the state file and its text for `sclman why`.
#include "policy/policy.hpp"

#include "core/time.hpp"
#include "policy/rule.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace policy {

using detail::k_ms;

std::string decision_json(const Decision& d)
{
  nlohmann::json inputs = nlohmann::json::object();
  for (const auto& [name, value] : d.inputs) {
    inputs[name] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
  }
  auto clamps = nlohmann::json::array();
  for (const auto& c : d.why.clamps) {
    nlohmann::json cj = {{"name", c.name}, {"from", c.from}, {"to", c.to}};
    if (!c.detail.empty()) {
      cj["detail"] = c.detail;
    }
    clamps.push_back(std::move(cj));
  }
  auto notes = nlohmann::json::array();
  for (const auto& n : d.why.samples) {
    nlohmann::json nj = {{"instance", n.instance}, {"use", n.use}};
    nj["value"] = n.value ? nlohmann::json(*n.value) : nlohmann::json(nullptr);
    if (!n.detail.empty()) {
      nj["detail"] = n.detail;
    }
    notes.push_back(std::move(nj));
  }
  nlohmann::json schedule = nullptr;
  if (d.why.schedule) {
    const auto& e = *d.why.schedule;
    schedule = {{"cron", e.cron}, {"tz", e.tz}, {"min", e.min_size}, {"max", e.max_size},
                {"since", d.why.schedule_since}};
  }
  nlohmann::json boot = nullptr;
  if (d.why.boot) {
    boot = {{"seconds", d.why.boot->seconds},
            {"source", d.why.boot->source},
            {"samples", d.why.boot->samples},
            {"detail", d.why.boot->detail},
            {"poll_s", d.why.boot->poll_s}};
  }
  nlohmann::json j = {
    {"action", to_string(d.action)},
    {"from", d.from},
    {"to", d.to},
    {"reason", d.reason},
    {"inputs", inputs},
    {"samples",
     {{"used", d.why.samples_used},
      {"dropped_warmup", d.why.dropped_warmup},
      {"dropped_missing", d.why.dropped_missing},
      {"stale", d.why.stale},
      {"poll_ts", d.why.poll_ts},
      {"last_sample_ts", d.why.last_sample_ts},
      {"stale_after", d.why.stale_s},
      {"list", notes}}},
    {"rule", d.why.rule},
    {"proposed", d.why.proposed},
    {"rejected", d.why.rejected},
    {"forecast", d.why.forecast},
    {"clamps", clamps},
    {"schedule", schedule},
  };
  if (d.why.horizon_s > 0) {
    j["horizon_s"] = d.why.horizon_s;
    j["boot"] = boot;
  }
  return j.dump();
}

std::string explain_text(const Decision& d)
{
  std::string out = fmt::format("{} {} -> {} ({})\n", to_string(d.action), d.from, d.to, d.reason);
  out += fmt::format("  samples: {} used, {} dropped for warm-up, {} missing{}\n",
                     d.why.samples_used, d.why.dropped_warmup, d.why.dropped_missing,
                     d.why.stale ? ", newest poll stale" : "");
  for (const auto& n : d.why.samples) {
    out += fmt::format("    {:<24} {:>10} {}{}\n", n.instance.empty() ? "?" : n.instance,
                       n.value ? fmt::format("{:.4g}", *n.value) : "-", n.use,
                       n.detail.empty() ? "" : ": " + n.detail);
  }
  if (d.why.poll_ts > 0 && d.why.samples.empty()) {
    if (d.why.last_sample_ts > 0) {
      out += fmt::format("    no sample in the newest poll; the last ones are from {} ({} s "
                         "before it, stale after {} s)\n",
                         core::iso8601_utc(d.why.last_sample_ts),
                         (d.why.poll_ts - d.why.last_sample_ts) / k_ms, d.why.stale_s);
    } else {
      out += "    no sample in the window the policy reads\n";
    }
  }
  if (!d.inputs.empty()) {
    out += "  values:";
    for (const auto& [name, value] : d.inputs) {
      out += fmt::format(" {}={:.4g}", name, value);
    }
    out += "\n";
  }
  out += fmt::format("  rule: {} proposed {}\n", d.why.rule.empty() ? "-" : d.why.rule,
                     d.why.proposed);
  for (const auto& f : d.why.forecast) {
    out += fmt::format("  forecast: {}\n", f);
  }
  for (const auto& r : d.why.rejected) {
    out += fmt::format("  not taken: {}\n", r);
  }
  for (const auto& c : d.why.clamps) {
    out += fmt::format("  clamp {}: {} -> {}{}\n", c.name, c.from, c.to,
                       c.detail.empty() ? "" : " (" + c.detail + ")");
  }
  if (d.why.schedule) {
    const auto& e = *d.why.schedule;
    out += fmt::format("  schedule: '{}' ({}) min {} max {}, since {}\n", e.cron, e.tz,
                       e.min_size, e.max_size, core::iso8601_utc(d.why.schedule_since));
  }
  if (d.why.horizon_s > 0) {
    if (d.why.boot) {
      out += fmt::format("  horizon: {} s: boot time {} s ({}: {}) + one poll ({} s), at least "
                         "{} s\n",
                         d.why.horizon_s, d.why.boot->seconds, d.why.boot->source,
                         d.why.boot->detail, d.why.boot->poll_s, k_min_horizon_s);
    } else {
      out += fmt::format("  horizon: {} s (the policy's horizon)\n", d.why.horizon_s);
    }
  }
  return out;
}

core::Result<Decision> decision_from_json(std::string_view text)
{
  Decision d;
  try {
    const auto j = nlohmann::json::parse(text);
    if (!j.is_object()) {
      return core::fail(core::ErrorKind::state, "invalid decision explanation: not an object");
    }
    const auto action = j.value("action", std::string("hold"));
    d.action = action == "scale_out" ? Action::scale_out
               : action == "scale_in" ? Action::scale_in
                                      : Action::hold;
    d.from = j.value("from", 0);
    d.to = j.value("to", 0);
    d.reason = j.value("reason", std::string());
    if (j.contains("inputs")) {
      for (const auto& [name, value] : j["inputs"].items()) {
        d.inputs.emplace_back(name, value.is_number() ? value.get<double>()
                                                      : std::numeric_limits<double>::quiet_NaN());
      }
    }
    auto& why = d.why;
    if (j.contains("samples")) {
      const auto& s = j["samples"];
      why.samples_used = s.value("used", 0);
      why.dropped_warmup = s.value("dropped_warmup", 0);
      why.dropped_missing = s.value("dropped_missing", 0);
      why.stale = s.value("stale", false);
      why.poll_ts = s.value("poll_ts", Millis(0));
      why.last_sample_ts = s.value("last_sample_ts", Millis(0));
      why.stale_s = s.value("stale_after", 0);
      if (s.contains("list")) {
        for (const auto& n : s["list"]) {
          SampleNote note;
          note.instance = n.value("instance", std::string());
          if (n.contains("value") && n["value"].is_number()) {
            note.value = n["value"].get<double>();
          }
          note.use = n.value("use", std::string());
          note.detail = n.value("detail", std::string());
          why.samples.push_back(std::move(note));
        }
      }
    }
    why.rule = j.value("rule", std::string());
    why.proposed = j.value("proposed", d.to);
    if (j.contains("rejected")) {
      why.rejected = j["rejected"].get<std::vector<std::string>>();
    }
    if (j.contains("forecast")) {
      why.forecast = j["forecast"].get<std::vector<std::string>>();
    }
    if (j.contains("clamps")) {
      for (const auto& c : j["clamps"]) {
        why.clamps.push_back(Clamp{c.value("name", std::string()), c.value("from", 0),
                                   c.value("to", 0), c.value("detail", std::string())});
      }
    }
    why.horizon_s = j.value("horizon_s", 0);
    if (j.contains("boot") && j["boot"].is_object()) {
      const auto& b = j["boot"];
      why.boot = BootTime{b.value("seconds", 0), b.value("source", std::string()),
                          b.value("samples", 0), b.value("detail", std::string()),
                          b.value("poll_s", 60)};
    }
    if (j.contains("schedule") && j["schedule"].is_object()) {
      const auto& e = j["schedule"];
      why.schedule = ScheduleEntry{e.value("cron", std::string()), e.value("tz", std::string()),
                                   e.value("min", 0), e.value("max", 0)};
      why.schedule_since = e.value("since", Millis(0));
    }
  } catch (const nlohmann::json::parse_error& e) {
    return core::fail(core::ErrorKind::state,
                      fmt::format("invalid decision explanation: syntax error at byte {}", e.byte));
  } catch (const nlohmann::json::exception&) {
    return core::fail(core::ErrorKind::state,
                      "invalid decision explanation: a value has the wrong type");
  }
  return d;
}

} // namespace policy
