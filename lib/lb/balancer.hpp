// The load balancer's membership. One interface, one implementation per kind (nginx, haproxy,
// chef-search).
#pragma once

#include "core/endpoint.hpp"
#include "core/instance_ref.hpp"
#include "core/operating.hpp"
#include "core/result.hpp"

#include <optional>
#include <string>
#include <vector>

namespace lb {

// An instance the LB may forward to: only a parsed endpoint, never a string, reaches a balancer.
struct Backend
{
  std::string name;
  core::Endpoint endpoint;
};

// A node or server kept out of the LB because its address did not parse.
struct Rejection
{
  std::string name;
  std::string reason;  // printable: the hostile value is escaped (core::printable)
};

// A member as the balancer reports it (Octavia: its health monitor's verdict).
struct MemberView
{
  std::string name;  // the web instance's name
  core::Operating status = core::Operating::no_monitor;
};

// The ids of the objects a balancer made for the LB beside the LB itself (Octavia's listener
// and pool, parsed as ids by the balancer; read back from the state through
// core::validate_object_id).
struct BalancerIds
{
  std::string listener;
  std::string pool;
};

// What an apply did beyond making the LB forward to its list.
struct Applied
{
  std::optional<BalancerIds> ids;  // none for balancers without such objects
  std::vector<Rejection> rejected;  // found by the balancer itself (a search), kept out
  // The members the balancer reports a status for, as it was before this apply (none for the
  // balancers that do not check their members: sclman's own probes do).
  std::vector<MemberView> members;
};

class Balancer
{
public:
  virtual ~Balancer() = default;
  // Make the LB forward to exactly `backends`, applied gracefully (no request lost).
  virtual core::Result<Applied> apply(const core::InstanceRef& lb,
                                      const std::vector<Backend>& backends) = 0;
  // Return the endpoints the LB forwards to now.
  virtual core::Result<std::vector<core::Endpoint>> current(const core::InstanceRef& lb) = 0;
  // Return the path on the LB's address that answers 200 once the LB serves ("/status"), or ""
  // when nothing probes the LB (its bootstrap waited for it to serve: Octavia).
  virtual std::string health_path() const = 0;
  // Return true when the balancer checks its members itself and reports each one's status in
  // Applied::members (Octavia's health monitor): that status, not sclman's own HTTP probe,
  // then says whether an in-service web instance is healthy.
  virtual bool checks_members() const { return false; }
};

} // namespace lb
