// The local provider: a "server" is a directory below <state dir>/instances/<name> holding a
// tag file (sclman.json) and a port on 127.0.0.1; the local bootstrapper runs nginx in it. The
// tag file names the state file that owns the directory (its identity): two state files in one
// directory share instances/, and each sees only its own servers.
#pragma once

#include "cloud/provider.hpp"
#include "core/clock.hpp"

namespace cloud {

class LocalProvider final : public Provider
{
public:
  // `root` is <state dir>/instances; `nginx` the binary whose masters remove() stops, waiting
  // on `clock`; `owner` the identity of the state file whose servers these are. A directory
  // another state owns is not created over, found, listed, removed or stopped; one without an
  // owner (made before owners were recorded) counts as this state's.
  LocalProvider(std::string root, std::string nginx, std::string owner, core::Clock& clock);

  core::Result<Server> create(const ServerSpec& spec) override;
  core::Result<std::optional<Server>> find(const std::string& name) override;
  core::Result<void> remove(const core::InstanceRef& instance) override;
  core::Result<std::vector<Server>> list() override;
  // Stop nginx masters directly below the root whose instance is not live.
  core::Result<int> remove_strays(const std::set<std::string>& live, bool dry_run) override;

private:
  // Return the owner recorded in instance directory `dir` if it is another state file.
  std::optional<std::string> foreign_owner(const std::string& dir) const;

  std::string m_root;
  std::string m_nginx;
  std::string m_owner;
  core::Clock& m_clock;
};

} // namespace cloud
