// Running a program to its end: its arguments as a vector (never a shell line), its input from
// a string, its output captured, within a deadline.
#pragma once

#include "core/result.hpp"

#include <string>
#include <vector>

namespace core {

struct ProcessResult
{
  int exit_code = 0;  // 128 + N when signal N ended it
  std::string out;    // its standard output, at most the limit asked for
  std::string err;    // its standard error, at most 64 KiB
};

struct ProcessOptions
{
  std::string input;                 // written to its standard input, then closed
  int timeout_ms = 30'000;           // then it is killed (SIGKILL) and the run is an error
  std::size_t max_output = 1 << 20;  // more standard output than this is an error
  // Added to its environment (NAME=VALUE), which otherwise holds only sclman's PATH, TZ, LANG
  // and LC_*: sclman's credentials (OS_PASSWORD, ...) never reach the child.
  std::vector<std::string> environment;
  // When set, its standard output and error go to this file (created 0600, truncated) instead
  // of being captured, and its input is /dev/null: for a program that leaves a daemon behind,
  // which would hold a pipe open for as long as it lives (a web server that daemonizes).
  std::string output_path;
};

// Return the environment a child process gets from `environment` (NAME=VALUE entries, as
// `environ`): only PATH, TZ, LANG and LC_*, so that credentials in sclman's environment
// (OS_PASSWORD, ...) never reach a program it runs or a daemon that outlives the run.
std::vector<std::string> child_environment(const char* const* environment);

// Run `argv` (argv[0] an absolute path) and wait for it. An error when it cannot be started,
// outlives the timeout or writes more than the limit; otherwise its exit code and output,
// whatever the code.
Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& options = {});

} // namespace core
