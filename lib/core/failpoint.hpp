// Named failpoints for crash-consistency tests: compiled into test builds, off by default. The environment
// variable SCLMAN_FAILPOINTS lists `name` or `name=kill|abort|stop` entries separated by commas;
// when a run reaches a listed failpoint the process dies there (SIGKILL by default), exactly as a
// crash or an OOM kill would, between an intent, its side effect and its recording; with `stop`
// it stops itself (SIGSTOP) there and goes on when it gets SIGCONT, as after a long pause.
// A failpoint reached through SCLMAN_FAILPOINT_TRY may instead fail as an upstream would:
// `name=auth`, `name=transient` or `name=rejected` make it return that error (exit 77, 75 or
// 76) every time it is reached, and `name=MODE@N` from the Nth time on, so that tests see how
// a run that fails (not one that dies) ends.
#pragma once

#include "core/result.hpp"

namespace core {

// Die here if `name` is enabled in SCLMAN_FAILPOINTS; otherwise do nothing.
void failpoint(const char* name);

// Die here as failpoint() does; return the error `name` is set to fail with; else nothing.
Result<void> failpoint_result(const char* name);

} // namespace core

// A build without them (SCLMAN_FAILPOINTS=OFF: the package) reads no SCLMAN_FAILPOINTS at all.
#ifdef SCLMAN_NO_FAILPOINTS
#define SCLMAN_FAILPOINT(name) static_cast<void>(name)
#define SCLMAN_FAILPOINT_TRY(name) static_cast<void>(name)
#else
#define SCLMAN_FAILPOINT(name) ::core::failpoint(name)
// In a function returning a Result: die, or return the failpoint's error (see above).
#define SCLMAN_FAILPOINT_TRY(name) TRY(::core::failpoint_result(name))
#endif
