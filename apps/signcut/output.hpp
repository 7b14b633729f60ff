// Where the commands write HDF5: a whole new file, or one object of a file
// that may already exist.
#pragma once

#include <span>
#include <string>

#include "signcut/hdf5.hpp"
#include "terminal.hpp"

namespace signcut::cli {

/// An HDF5 output as the command line names it: "OUT.h5" (a whole new file)
/// or "OUT.h5:/path" (that object of OUT.h5, which keeps everything else).
struct Hdf5Target {
    std::string spec;    ///< as given
    std::string file;
    std::string object;  ///< "" for a whole new file
    bool into_existing() const { return !object.empty(); }
};

Hdf5Target parse_hdf5_target(const std::string& spec);

/// Checks `target` before any work is done (check_output_path, or
/// check_output_object for an object of a file that may exist), refusing an
/// output that is, holds or lies inside one of `inputs`; warnings (other
/// hard links of an edited file) go to the terminal.
void check_hdf5_target(const Hdf5Target& target, std::span<const ObjectRef> inputs, bool force,
                       const Terminal& terminal);

/// The object a decomposition input names, for the checks above: "/G" for
/// "IN.h5:/G", "/decomposition" for a decomposition at a file's root.
ObjectRef decomposition_object(const std::string& spec);

/// The size a decomposition has as a file of its own, measured by writing it
/// to a temporary file: the `file_bytes` of outputs that have no file of
/// their own (an object inside a larger file, the image command without
/// --save).
std::uint64_t own_file_bytes(const SignedCutDecomposition& d, const Provenance& prov);
std::uint64_t own_file_bytes(const LplrDecomposition& d, const Provenance& prov);

}  // namespace signcut::cli
