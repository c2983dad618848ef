// The local provider: a "server" is a directory below <state dir>/instances/<name> holding a
// tag file (sclman.json) and a port on 127.0.0.1; the local bootstrapper runs nginx in it.
#pragma once

#include "cloud/provider.hpp"
#include "core/clock.hpp"

namespace cloud {

class LocalProvider final : public Provider
{
public:
  // `root` is <state dir>/instances; `nginx` the binary whose masters remove() stops, waiting
  // on `clock`.
  LocalProvider(std::string root, std::string nginx, core::Clock& clock);

  core::Result<Server> create(const ServerSpec& spec) override;
  core::Result<std::optional<Server>> find(const std::string& name) override;
  core::Result<void> remove(const core::InstanceRef& instance) override;
  core::Result<std::vector<Server>> list() override;
  // Stop nginx masters directly below the root whose instance is not live.
  core::Result<int> remove_strays(const std::set<std::string>& live, bool dry_run) override;

  // Return the directory of instance `name`.
  std::string prefix(const std::string& name) const { return m_root + "/" + name; }

private:
  std::string m_root;
  std::string m_nginx;
  core::Clock& m_clock;
};

} // namespace cloud
