// Internal: the writers of datasets and decompositions into an HDF5 file
// that is already open, for callers that write several objects into one
// output (a whole-file run). The public writers in signcut/hdf5.hpp open
// the output, call these and commit it.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <hdf5.h>

#include "hdf5_handle.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/stored_layout.hpp"

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

/// The steps of write_sct_into, for writers that write one file together
/// (a team's members, each holding its own blocks, signcut/decompose.hpp):
/// create_sct_objects() makes the group, its attributes and its datasets,
/// sized by `layout`, without their values; check_sct_blocks() checks that
/// `d` holds blocks [first, last) as `layout` lays them out, with values a
/// file may hold; sct_block_values() gathers those blocks' part of every
/// dataset, and write_sct_values() writes it, with `transfer` (H5P_DEFAULT,
/// or a collective MPI-IO transfer: then every writer calls it, with its
/// own blocks, none if it has none).
h5::Group create_sct_objects(hid_t root, const std::string& shown, const StoredLayout& layout,
                             const Provenance& provenance);
void check_sct_blocks(const StoredLayout& layout, const SignedCutDecomposition& d, std::size_t first,
                      std::size_t last, const std::string& shown);

/// Blocks [first, last)'s values of every dataset, as stored, and where
/// they start.
struct SctBlockValues {
    std::size_t first_block = 0;
    BlockPlacement at;
    std::vector<std::uint32_t> widths;
    std::vector<float> scales;
    std::vector<std::uint8_t> signs;
    std::vector<std::uint8_t> codecs;          ///< version 3
    std::vector<std::uint32_t> stream_sizes;   ///< version 3
    std::vector<std::uint8_t> streams;         ///< version 3
};
SctBlockValues sct_block_values(const StoredLayout& layout, const SignedCutDecomposition& d, std::size_t first,
                                std::size_t last);
void write_sct_values(hid_t group, const std::string& shown, const StoredLayout& layout, const SctBlockValues& values,
                      hid_t transfer);

/// The same for an lplr decomposition (write_lplr).
void write_lplr_into(hid_t root, const std::string& shown, const LplrDecomposition& decomposition,
                     const Provenance& provenance);

}  // namespace signcut::io
