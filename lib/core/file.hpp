// Whole-file reads and crash-safe whole-file writes.
#pragma once

#include "core/result.hpp"

#include <optional>
#include <string>

namespace core {

// Return the contents of the file at `path`, or nothing if it cannot be opened.
std::optional<std::string> read_file(const std::string& path);

// Write `content` to `path` atomically: a temporary file in the same directory, fsync, rename
// over `path`, then fsync the directory so that the rename survives a crash. A reader sees the
// old or the new contents, never a mix. A `path` that exists and is not a regular file (a
// device, a fifo, a directory, a symlink) is left as it is and is a state error, as are the
// other failures; each names the file.
Result<void> write_file_atomic(const std::string& path, const std::string& content);

} // namespace core
