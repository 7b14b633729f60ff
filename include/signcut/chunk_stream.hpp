// signcut: one chunk of an HDF5 dataset as a self-describing byte stream,
// what the HDF5 filter (hdf5_filter.hpp) stores in place of the chunk.
//
// A chunk is decomposed on its own: cut into blocks, the allocation of
// bits across them (signed cuts or zfp, block by block), as compress does
// for a whole tensor. The stream records everything needed to rebuild the
// chunk without the dataset's filter parameters: its dtype and dims, the
// block shape, each block's width and codec, the scales, the sign
// segments and the zfp streams, followed by a CRC-32 of all of it. Chunks
// too small to hold one term, chunks with non-finite values and chunks the
// decomposition would not make smaller are stored raw, with a flag.
// docs/FORMAT.md, "Chunk streams", gives the layout byte by byte.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "signcut/tensor.hpp"

namespace signcut {

/// A chunk's values: the dataset's element type.
enum class ChunkDtype : std::uint8_t { float32 = 0, float64 = 1 };

/// The bytes of one value of `dtype`.
inline constexpr std::size_t chunk_value_bytes(ChunkDtype dtype) noexcept
{
    return dtype == ChunkDtype::float64 ? 8 : 4;
}

/// What a chunk's decomposition aims at.
struct SIGNCUT_API ChunkRule {
    enum class Kind : std::uint8_t {
        bits_per_value = 1,  ///< the stream's bytes at most value · N / 8 (raw chunks excepted)
        rel_error = 2,       ///< ||X - Y|| / ||X|| at most value, in the fewest bits
        rmse = 3,            ///< the root mean square error at most value, in the fewest bits
    };
    Kind kind = Kind::bits_per_value;
    double value = 1.0;
};

struct SIGNCUT_API ChunkEncoding {
    ChunkRule rule;
    /// Blocks within the chunk (each b_a from 1 to the chunk's d_a); empty:
    /// the auto rule of compress, applied to the chunk.
    Shape block_shape;
    std::uint64_t seed = 0;
    /// Let the allocation store blocks with zfp where that serves them
    /// better (compress's `--codecs sct,zfp`).
    bool zfp = true;
};

/// The first bytes of every chunk stream.
inline constexpr std::uint8_t chunk_stream_magic[4] = {'S', 'C', 'U', 'T'};
/// The stream layout this library writes (and the only one it reads).
inline constexpr std::uint8_t chunk_stream_version = 1;

/// Encodes one chunk: `values` holds chunk_dims' N values of `dtype`
/// (native byte order, C order). One thread, no HDF5 call. Throws Error on
/// a bad argument (an empty or zero dimension, a size that disagrees, a
/// rule value that is not positive and finite, a bad block shape).
SIGNCUT_API std::vector<std::uint8_t> encode_chunk(std::span<const std::byte> values, ChunkDtype dtype,
                                                   const Shape& chunk_dims, const ChunkEncoding& encoding);

/// Decodes a stream into `out` (N values of `dtype`). The stream must
/// describe a chunk of exactly `chunk_dims` and `dtype`: every length and
/// count is checked against the stream's size and the chunk's before
/// anything is read or allocated, and the CRC before anything is decoded.
/// Throws Error(errc::bad_input) naming what is wrong; never reads outside
/// `stream` or writes outside `out`.
SIGNCUT_API void decode_chunk(std::span<const std::uint8_t> stream, ChunkDtype dtype, const Shape& chunk_dims,
                              std::span<std::byte> out);

/// CRC-32 (the polynomial of zlib and PNG) of `bytes`.
SIGNCUT_API std::uint32_t crc32_of(std::span<const std::uint8_t> bytes) noexcept;

}  // namespace signcut
