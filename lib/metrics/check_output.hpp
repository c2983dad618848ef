// Values from the text Sensu checks print: Nagios perfdata, Graphite plaintext and the
// sensu-plugins check-load message. Pure functions on strings.
#pragma once

#include "core/clock.hpp"
#include "core/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace metrics {

enum class OutputFormat { auto_detect, nagios, graphite, check_load, status };

// Return the format named `name` (auto, nagios, graphite, check_load, status).
std::optional<OutputFormat> output_format_from(std::string_view name);

struct CheckValue
{
  double value = 0;
  std::optional<core::Millis> ts;  // when the output carries its own time (Graphite)
};

// Return true if metric `name` is `wanted` or ends with "." + `wanted`
// ("web-1.load_avg.one" matches "load_avg.one").
bool metric_name_matches(std::string_view name, std::string_view wanted);

// Return the value of the first perfdata label (Nagios plugin guidelines:
// `'label'=value[UOM];[warn];[crit];[min];[max]` after a `|`) that matches one of `names`, in
// the order of `names`. The unit is dropped; `U` (unknown) is no value.
std::optional<CheckValue> parse_nagios_perfdata(std::string_view output,
                                                const std::vector<std::string>& names);

// Return the value of the first Graphite plaintext line (`path value [timestamp]`) whose path
// matches one of `names`, in the order of `names`.
std::optional<CheckValue> parse_graphite(std::string_view output,
                                         const std::vector<std::string>& names);

// Return the 1-minute load of a sensu-plugins check-load message, e.g.
// "CheckLoad OK: Per core load average (2 CPU): [0.12, 0.1, 0.05]" or
// "CheckLoad WARNING: Total load average (1 CPU): 3.1, 2.0, 1.5".
std::optional<double> parse_check_load(std::string_view output);

// Return the value in `output` read as `format` (auto tries perfdata, Graphite, then the
// check-load text), or an error saying what was looked for. Not for OutputFormat::status.
core::Result<CheckValue> parse_check_output(std::string_view output,
                                            OutputFormat format,
                                            const std::vector<std::string>& names);

// Return the comma-separated `list` split and trimmed, empty items dropped.
std::vector<std::string> split_names(std::string_view list);

} // namespace metrics
