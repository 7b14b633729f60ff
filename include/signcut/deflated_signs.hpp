// The sign storage of libsigncut: HDF5's deflate (zlib), sign_storage.hpp.
#pragma once

#include "signcut/export.hpp"

#include <memory>

#include "signcut/sign_storage.hpp"

namespace signcut {

/// Signs deflated at `level` (1-9; 1, the default, deflates 2-3x faster
/// than 6 and stores about 1 % more). Throws
/// `Error` (errc::invalid_argument) for another level.
SIGNCUT_API std::shared_ptr<const SignStorage> deflated_signs(int level = 1);

}  // namespace signcut
