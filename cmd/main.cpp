// sclman: one executable, one subcommand per file in cmd/.
#include "run.hpp"

namespace cmd {

void register_create_cluster(CLI::App& app);
void register_delete_cluster(CLI::App& app);
void register_status(CLI::App& app);
void register_poll_load(CLI::App& app);
void register_decide(CLI::App& app);
void register_scale_out(CLI::App& app);
void register_scale_in(CLI::App& app);
void register_gc(CLI::App& app);
void register_report(CLI::App& app);
void register_completion(CLI::App& app);
void register_simulate(CLI::App& app);
void register_recommend(CLI::App& app);
void register_why(CLI::App& app);
void register_set_policy(CLI::App& app);
void register_protect(CLI::App& app);
void register_replace(CLI::App& app);
void register_config(CLI::App& app);
void register_serve(CLI::App& app);
void register_token(CLI::App& app);
void register_receiver(CLI::App& app);
void register_remove(CLI::App& app);
void register_migrate_state(CLI::App& app);

void register_all(CLI::App& app)
{
  register_create_cluster(app);
  register_delete_cluster(app);
  register_status(app);
  register_poll_load(app);
  register_decide(app);
  register_scale_out(app);
  register_scale_in(app);
  register_gc(app);
  register_report(app);
  register_completion(app);
  register_simulate(app);
  register_recommend(app);
  register_why(app);
  register_set_policy(app);
  register_protect(app);
  register_replace(app);
  register_config(app);
  register_serve(app);
  register_token(app);
  register_receiver(app);
  register_remove(app);
  register_migrate_state(app);
}

} // namespace cmd

int main(int argc, char** argv)
{
  return cmd::main(argc, argv);
}
