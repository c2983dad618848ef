// Named failpoints for crash-consistency tests: compiled in, off by default. The environment
// variable SCLMAN_FAILPOINTS lists `name` or `name=kill|abort` entries separated by commas; when
// a run reaches a listed failpoint the process dies there (SIGKILL by default), exactly as a
// crash or an OOM kill would, between an intent, its side effect and its recording.
#pragma once

namespace core {

// Die here if `name` is enabled in SCLMAN_FAILPOINTS; otherwise do nothing.
void failpoint(const char* name);

} // namespace core

#define SCLMAN_FAILPOINT(name) ::core::failpoint(name)
