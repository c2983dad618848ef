// Where a local instance lives: <root>/<name>, one directory per instance (the local provider's,
// the local bootstrapper's, the nginx balancer's and the stand-ins' layout).
#pragma once

#include "core/endpoint.hpp"
#include "core/result.hpp"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>

namespace local {

// Return the root of local instances: `configured` ([LOCAL] instances_dir, an absolute path) or,
// when it is empty, <state_dir>/instances. A configured root that is missing is made (mode
// 0700); one that is a symlink or not a directory, belongs to another user, or may be written by
// its group or others is a config error naming it: nginx configs and pid files are written and
// processes signalled below it.
core::Result<std::string> instances_root(const std::string& configured, const std::string& state_dir);

// Return the directory of instance `name` below `root`: the one place such a path is built. A
// name that is not an instance name (core::validate_instance_name), or an entry there that is
// not a directory (a symlink out of the root), is a state error naming it, so that nothing
// outside `root` is made, started or removed.
core::Result<std::string> instance_dir(const std::string& root, std::string_view name);

// Return 127.0.0.1 with the port `port` read back from a file sclman keeps in an instance
// directory (`file`: its tag file or stand-in record). The file may have been edited: a port
// that is not an integer from 1 to 65535 is a state error naming the file.
core::Result<core::Endpoint> recorded_endpoint(const nlohmann::json& port, std::string_view file);

// Return the address recorded in `record` (its "address", absent for 127.0.0.1) with the port
// `record` records, read back from `file` as recorded_endpoint() does; an address that is not
// an IP literal is a state error naming the file.
core::Result<core::Endpoint> recorded_listen(const nlohmann::json& record, std::string_view file);

} // namespace local
