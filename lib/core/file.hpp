// Whole-file reads and crash-safe whole-file writes.
#pragma once

#include "core/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace core {

// Return the contents of the file at `path`, or nothing if it cannot be opened.
std::optional<std::string> read_file(const std::string& path);

// Write `content` to `path` atomically: a temporary file in the same directory, fsync, rename
// over `path`, then fsync the directory so that the rename survives a crash. A reader sees the
// old or the new contents, never a mix. A `path` that exists and is not a regular file (a
// device, a fifo, a directory, a symlink) is left as it is and is a state error, as are the
// other failures; each names the file.
Result<void> write_file_atomic(const std::string& path, const std::string& content);

// Files that hold secrets (the config, private keys) are refused when their mode grants more
// than it should, as ssh refuses a private key others can read; --insecure-perms lets such a
// file be used, with a warning each time.
enum class Perms { strict, insecure };

// Check the mode of regular file `path` (`what` names it in messages: "config file"): it may
// grant none of the `forbidden` bits (077 for a private key; 027 for the config, which its
// group may read). Fail (config) naming the mode and the chmod that fixes it, or with
// Perms::insecure log a warning and go on.
Result<void> check_file_mode(const std::string& path, std::string_view what, mode_t forbidden,
                             Perms perms);

} // namespace core
