// libFuzzer target: a policy stored as JSON (state file, set-policy, --policy) never crashes the
// parser, and an accepted policy validates.
#include "policy/policy.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto policy = policy::policy_from_json(text);
  if (policy && !policy::validate(*policy)) {
    std::abort();
  }
  return 0;
}
