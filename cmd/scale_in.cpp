// cmd/scale_in.cpp: `sclman scale-in`: carry out pending scale-in decisions: remove the victim
// from the LB, wait the drain period (over successive runs), then delete it.
#include "scale.hpp"

namespace cmd {

void register_scale_in(CLI::App& app)
{
  auto o = std::make_shared<ScaleOptions>();
  auto* sub = add_command(app, "scale-in",
                          "Carry out scale-in decisions: drain, then delete instances",
                          Traits{true, false, Needs::state},
                          [o](Env& env) { return run_scale(env, Direction::in, *o); });
  sub->add_option("--cluster", o->cluster, "Only this cluster");
  sub->add_option("--to", o->to, "Shrink to this many web instances now (by hand)");
  sub->add_flag("--force", o->force,
                "With --to outside the policy's [min, max]: move the bound to it (stored once the "
                "run succeeds)");
  sub->add_flag("--wait", o->wait, "Wait for the drain within the run deadline");
}

} // namespace cmd
