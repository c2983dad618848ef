// cmd/scale_out.cpp: `sclman scale-out`: carry out pending scale-out decisions, replace dead
// instances, and bring booting instances into service.
#include "scale.hpp"

namespace cmd {

void register_scale_out(CLI::App& app)
{
  auto o = std::make_shared<ScaleOptions>();
  auto* sub = add_command(app, "scale-out",
                          "Carry out scale-out decisions and bring new instances into service",
                          Traits{true, false, Needs::state},
                          [o](Env& env) { return run_scale(env, Direction::out, *o); });
  sub->add_option("--cluster", o->cluster, "Only this cluster");
  sub->add_option("--to", o->to, "Grow to this many web instances now (by hand)");
  sub->add_flag("--force", o->force,
                "With --to outside the policy's [min, max]: move the bound to it (stored once the "
                "run succeeds)");
}

} // namespace cmd
