// Internal: what the readers of decomposition files share. read_decomposition
// reads a file whole; decompress_in_slabs, through SlabReader, reads an sct
// file a slab at a time. Both open the file the same way, start from the
// same info, and read version-2 blocks and version-3 coded blocks the same
// way, so that a streamed read refuses what a whole read refuses, with the
// same messages.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "decomposition_file.hpp"
#include "hdf5_handle.hpp"
#include "signcut/block_codec.hpp"
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

/// Version 3: the codec a file's `codecs` entry names, or nullptr for 0
/// (signed cuts) and for ids no codec of this build has.
const BlockCodec* stored_codec(CodecId id);
/// The codecs version-3 blocks may be stored with, as a decomposition read
/// from a file holds them.
BlockCodecs file_codecs();
/// "zfp", or "codec 7".
std::string codec_name(CodecId id);

/// A version-3 coded block to read: where its streams lie.
struct CodedToRead {
    std::uint64_t block = 0;
    CodecId codec = CodecId::sct;
    std::uint64_t first_stream = 0;  ///< its first entry of `stream_sizes`
    std::uint64_t streams = 0;       ///< how many streams it has
    std::uint64_t bytes_at = 0;      ///< where its first stream starts in `streams`
    std::uint64_t bytes = 0;         ///< Σ of its streams' sizes
};

/// Reads version 3's `stream_sizes` whole (`count` entries, checked by the
/// info), from `dataset` when it is open, else from the array opened for
/// this read; refuses sizes that do not sum to `stream_bytes`, the length of
/// `streams`.
std::vector<std::uint32_t> read_stream_sizes(hid_t root, hid_t dataset, const std::string& path, std::uint64_t count,
                                             std::uint64_t stream_bytes);

/// Reads the streams of `blocks` (in increasing order, as the file holds
/// them) from version 3's `streams` (`dataset` when open, as
/// read_block_terms), through one selection of the runs they make, and
/// calls add(block, its streams) for each block in order; `sizes` is the
/// whole of `stream_sizes`.
void read_coded_blocks(hid_t root, hid_t dataset, const std::string& path, std::span<const std::uint32_t> sizes,
                       std::span<const CodedToRead> blocks,
                       const std::function<void(const CodedToRead&, CodedBlock)>& add);

/// Decodes coded block `b` of extents `extents` into `out` with its codec;
/// a stream the codec refuses (a header that does not describe the block,
/// a truncated stream) is an Error(errc::bad_input) of one line naming the
/// file (`path`), the block and `streams_name`.
void decode_coded_block(const std::string& path, const std::string& streams_name, std::uint64_t b,
                        const CodedBlock& block, const Shape& extents, std::span<float> out);

}  // namespace signcut::io
