// Internal: the writers of datasets and decompositions into an HDF5 file
// that is already open, for callers that write several objects into one
// output (a whole-file run). The public writers in signcut/hdf5.hpp open
// the output, call these and commit it.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <hdf5.h>

#include "signcut/hdf5.hpp"

namespace signcut::io {

/// Creates dataset `dataset_path` (and the groups above it) in `file`, as
/// write_dataset describes; `shown` names it in messages.
void write_dataset_into(hid_t file, const std::string& dataset_path, const std::string& shown, const float* data,
                        std::span<const std::size_t> shape, std::string_view dtype,
                        std::span<const CarriedAttribute> attributes);

/// Writes an sct decomposition into `root` (a file's root group, or the
/// group that holds it) as write_decomposition describes.
void write_sct_into(hid_t root, const std::string& shown, const SignedCutDecomposition& decomposition,
                    const Provenance& provenance);

/// The same for an lplr decomposition (write_lplr).
void write_lplr_into(hid_t root, const std::string& shown, const LplrDecomposition& decomposition,
                     const Provenance& provenance);

}  // namespace signcut::io
