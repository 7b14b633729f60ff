// signcut: the checks a front end (the CLI, a script, a job launcher) makes
// on an output before doing any work, so that a long run does not end in a
// refusal to write. The writers repeat what matters at write time.
#pragma once

#include "signcut/export.hpp"

#include <span>
#include <string>
#include <vector>

namespace signcut {

/// Checks, before any work is done, that `output` can be written: its folder
/// exists and is writable, it is not a folder, it is not the same file (same
/// device and inode, so hard and symbolic links count) as any of `inputs`
/// (file paths, without ":/dataset" suffixes), and it does not exist unless
/// `force`. Throws Error(errc::io) naming the path otherwise. Inputs that do
/// not exist are ignored here (reading them reports that).
SIGNCUT_API void check_output_path(const std::string& output, std::span<const std::string> inputs, bool force);

/// An object of an HDF5 file, as "FILE.h5:/path" names it: a dataset, or
/// the group that holds a decomposition.
struct SIGNCUT_API ObjectRef {
    std::string file;
    std::string object;  ///< absolute path inside the file
};

/// The checks of an output "FILE.h5:/object", made before any work is done:
/// those of check_output_path on the folder; then, if `file` exists, that
/// it is an HDF5 file, that no dataset lies on the object's path, that an
/// existing object is replaced only with `force`, and that the object is
/// not, does not contain and does not lie inside any of `inputs` in the
/// same file (same device and inode). Throws Error naming the path.
/// Returns warnings a person should see: an edited file with other hard
/// links (they keep the old contents, since the edit renames a new file over
/// this name).
SIGNCUT_API std::vector<std::string> check_output_object(const std::string& file, const std::string& object,
                                             std::span<const ObjectRef> inputs, bool force);

}  // namespace signcut
