// signcut: plain files written the way every signcut output is written.
#pragma once

#include <string>
#include <string_view>

#include "signcut/export.hpp"

namespace signcut {

/// Writes `bytes` to `path` through a temporary file in the same folder
/// that is flushed and renamed over `path`, so the file appears whole or not
/// at all, with the permissions a new file gets. Refuses an existing `path`
/// unless `force`. Throws `Error` (errc::io) with the reason.
SIGNCUT_API void write_file_atomically(const std::string& path, std::string_view bytes, bool force);

}  // namespace signcut
