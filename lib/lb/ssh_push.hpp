// The server balancer without Chef: sclman renders the LB server's upstream list and pushes it
// over SSH to sclman-lb-apply (cm::SshChannel), which has nginx test and reload it there; what
// the server reports back as loaded is parsed like any text from outside.
#pragma once

#include "cm/ssh.hpp"
#include "lb/balancer.hpp"

namespace lb {

class SshPushBalancer final : public Balancer
{
public:
  explicit SshPushBalancer(cm::SshChannel& channel) : m_channel(channel) {}

  core::Result<Applied> apply(const core::InstanceRef& lb,
                              const std::vector<Backend>& backends) override;
  core::Result<std::vector<core::Endpoint>> current(const core::InstanceRef& lb) override;
  std::string health_path() const override;

private:
  cm::SshChannel& m_channel;
};

} // namespace lb
