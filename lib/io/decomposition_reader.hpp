// Internal: what the readers of decomposition files share. read_decomposition
// reads a file whole; decompress_in_slabs, through SlabReader, reads an sct
// file a slab at a time. Both open the file the same way, start from the
// same info, and read version-2 blocks the same way, so that a streamed
// read refuses what a whole read refuses, with the same messages.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "decomposition_file.hpp"
#include "hdf5_handle.hpp"
#include "signcut/blocks.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/hdf5.hpp"

namespace signcut::io {

/// A decomposition opened for reading: its file, and the group that holds
/// it (the root, or G of "FILE.h5:/G").
struct OpenDecomposition {
    h5::File file;
    h5::Group root;
    std::string file_name;
};

/// Opens "FILE.h5" or "FILE.h5:/G". A path that exists is a file (so names
/// with ":/" in them work); otherwise the text after the last ":/" is the
/// group.
OpenDecomposition open_decomposition(const std::string& spec);

/// The part of the info every method fills alike, from the common
/// attributes; each method's reader adds its own.
DecompositionInfo common_info(const CommonAttributes& common);

/// Opens the array `name` (a full path, item_path) of the decomposition in
/// `root`; `path` names the file in messages.
h5::Dataset open_array(hid_t root, const std::string& path, const std::string& name);

/// A version-2 block to read: where its scales and its sign segment start.
struct BlockToRead {
    std::uint64_t block = 0;
    std::uint64_t width = 0;
    std::uint64_t scales_at = 0;  ///< in the file's `scales`
    std::uint64_t bytes_at = 0;   ///< in the file's `signs`
    std::uint64_t bytes = 0;      ///< the segment's length
};

/// Reads the terms of `blocks` (in increasing order, as the file holds
/// them) of the version-2 decomposition in `root`, whose grid is `grid`:
/// their scales, then their sign segments, each array through one
/// selection of the runs the blocks make, then calls add(block, terms) for
/// each block in order. `scales` and `signs` are those arrays kept open by
/// the caller, or H5I_INVALID_HID to open them for this read (only when it
/// reads something). Refuses non-finite scales and a segment with unused
/// bits set in its last byte. A damaged chunk fails here, with HDF5's reason
/// (fletcher32's "data error detected").
void read_block_terms(hid_t root, hid_t scales, hid_t signs, const std::string& path, const BlockGrid& grid,
                      bool scales_refit, std::span<const BlockToRead> blocks,
                      const std::function<void(const BlockToRead&, SignedCutTerms)>& add);

}  // namespace signcut::io
