// signcut: decomposition files (format version 2, or 3 for sct
// decompositions with blocks stored by zfp; version 1 still read;
// docs/FORMAT.md), of either method. The rules of signcut/datasets.hpp hold:
// one-line errors, atomic writes, one thread in HDF5 at a time.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "signcut/any_decomposition.hpp"
#include "signcut/blocks.hpp"
#include "signcut/datasets.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/lplr.hpp"
#include "signcut/tensor.hpp"

namespace signcut {

/// What a decomposition does not know about itself, stored with it.
struct SIGNCUT_API Provenance {
    std::string original_dtype = "float32";  ///< dtype name of the data that was decomposed
    std::string source;                      ///< e.g. "field.h5:/temperature"
    std::uint64_t seed = 0;                  ///< the decomposer's seed
    std::string signcut_version;             ///< empty: this library's version
    double rel_fro_error = 0;                ///< ||X - Y||_F / ||X||_F of the stored terms
    std::string created;                     ///< ISO 8601 UTC; empty: the time of writing
    double norm2 = 0;                        ///< ||X||_F², the original's squared norm (@norm2)
    /// The source dataset's attributes (`source_attributes`).
    std::vector<CarriedAttribute> source_attributes;
};

/// The metadata of a decomposition file of either method, read without
/// reading the arrays (sct's `widths` excepted).
struct SIGNCUT_API DecompositionInfo {
    std::string method;  ///< "sct" or "lplr"
    int format_version = 2;
    Shape shape;
    std::uint64_t width = 0;  ///< sct: Σ_b w_b; lplr: the rank
    bool scales_refit = false;
    /// sct: the bits of a stored scale: 13 for short scales (an n-bit
    /// float of precision 13, docs/FORMAT.md), else 32.
    unsigned scale_bits = 32;
    /// sct: the level of the deflate filter on `signs` (0: plain bytes).
    int signs_deflate_level = 0;
    /// sct: the block shape and each block's width (a version-1 file is
    /// one block: block_shape = shape, widths = {width}).
    Shape block_shape;
    std::vector<std::uint64_t> widths;
    /// sct, format version 3: each block's codec, in grid order (a block
    /// stored by zfp has width 0); empty for versions 1 and 2, whose blocks
    /// are all signed cuts.
    std::vector<CodecId> codecs;
    /// sct, format version 3: the streams of the coded blocks (the length
    /// of `stream_sizes`) and their bytes (the length of `streams`).
    std::uint64_t coded_streams = 0;
    std::uint64_t stream_bytes = 0;
    /// ||X||² (version 2); NaN for a version-1 file, which does not store it.
    double norm2 = 0;
    /// lplr: the split and the code widths.
    Matricization matricization;
    unsigned bits_l = 0, bits_r = 0;
    /// The stored bytes of the method's datasets (HDF5's storage sizes):
    /// what bits_per_value counts.
    std::uint64_t payload_bytes = 0;
    std::uint64_t file_bytes = 0;
    Provenance provenance;

    /// payload_bytes·8 / N.
    double bits_per_value() const;
    /// The logical count: sct Σ_b w_b·(Σ_a e_{b,a} + scale_bits) / N, plus for the
    /// coded blocks 8 bits per stream byte and 32 per stream; lplr
    /// rank·(n·bits_l + d·bits_r + 64) / N.
    double counted_bits_per_value() const;
    /// The blocks stored by `codec` (every block is CodecId::sct in
    /// versions 1 and 2).
    std::uint64_t blocks_of(CodecId codec) const;
};



/// Writes `decomposition` (method "sct", format version 2, docs/FORMAT.md):
/// root attributes signcut_format and format_version, group /decomposition
/// with its attributes (@block_shape, @norm2 from the provenance, ...) and
/// the datasets widths, scales and signs, each chunked with HDF5's
/// fletcher32 checksum and with the chunking stored_dataset_bytes() assumes,
/// so that the payload is decomposition.payload(). A decomposition with
/// blocks stored by another codec (zfp) is written as format version 3:
/// the same plus the datasets codecs, stream_sizes and streams, chunked
/// alike; one without is version 2, byte for byte. Fixed-length strings
/// only. Object time tracking is off, so two writes of equal inputs
/// (including `created`) give identical bytes. Refuses an existing `path`
/// unless `force`, and an unknown original_dtype. The write is atomic.
///
/// With a `group` ("/results/t"), the decomposition goes into that group of
/// `path` instead of the file's root, and an existing HDF5 file keeps
/// everything else, as write_dataset does with `into_existing`.
SIGNCUT_API void write_decomposition(const std::string& path, const SignedCutDecomposition& decomposition,
                         const Provenance& provenance, bool force, const std::string& group = {});

/// Reads and validates the metadata of a decomposition file of either
/// method without reading its arrays (sct's `widths`, and version 3's
/// `codecs`, excepted). Refuses (errc::bad_input, naming the file and the
/// item): a file that is not HDF5 or not a signcut decomposition, a
/// format_version other than 1 to 3 (errc::unsupported above 3), version
/// 3's codec record where it does not fit (an unknown codec, a coded block
/// with terms or with extents its codec cannot store, a `stream_sizes` of
/// another length than the coded blocks' streams, the version-3 datasets
/// in a version-2 file or missing from a version-3 one), a
/// missing, ill-typed or unknown attribute or dataset, a variable-length
/// string in a version-2 file, an unknown method or dtype, a shape of rank 0
/// or with a zero dimension, a block shape outside 1..d_a, a width that is
/// not Σ widths, a negative or non-finite norm2, and arrays whose lengths
/// disagree with the widths, block shape and shape.
SIGNCUT_API DecompositionInfo read_decomposition_info(const std::string& path);

/// Reads a decomposition file of either method. After the checks of
/// read_decomposition_info, and before reading any array, refuses
/// (errc::limit) a file whose reconstruction (N·4 bytes, or the region's)
/// plus the arrays it reads exceed `max_bytes`. Then refuses non-finite
/// scales, set padding bits, stream sizes that do not sum to the length of
/// `streams`, and (decoding each coded block once) a stream its codec
/// refuses. With `region` (sct only; lplr reads
/// everything), only the blocks the region touches are read: the other
/// blocks come back with no terms, so the result serves that region only.
SIGNCUT_API Decomposition read_decomposition(const std::string& path, std::uint64_t max_bytes, DecompositionInfo* info = nullptr,
                                 const Region* region = nullptr);

/// How decompress_in_slabs rebuilds and stores a decomposition.
struct SIGNCUT_API SlabDecompression {
    /// What may be held at once (`--max-memory`): the widths, plus the
    /// largest slab's terms, values and buffers.
    std::uint64_t max_bytes = 0;
    /// Only this region (the blocks it touches are read); null: everything.
    const Region* region = nullptr;
    /// > 0: the first `width` terms of every block (`--width`).
    std::size_t width = 0;
    /// The stored dtype (write_dataset's conversions); empty: the file's
    /// original_dtype. "float64" rebuilds in double, as
    /// SignedCutDecomposition::reconstruct_float64 does; every other dtype
    /// converts the float32 reconstruction.
    std::string dtype;
    bool force = false;
    bool into_existing = false;  ///< as write_dataset's `into_existing`
    unsigned threads = 1;
    /// Called with each slab's values (float32, or float64 for a "float64"
    /// output) and the output entry (C order) of the first, before they are
    /// written. Throwing abandons the output: nothing is left behind.
    std::function<void(std::span<const float> values, std::uint64_t first)> check_float32;
    std::function<void(std::span<const double> values, std::uint64_t first)> check_float64;
};

/// Rebuilds the sct decomposition `path` ("FILE.h5" or "FILE.h5:/G"), or
/// `options.region` of it, into the dataset `dataset` of the HDF5 file
/// `output` one slab at a time, so that the tensor is never held whole: a
/// slab is one row of blocks along mode 0 (a version-1 file, one block, is
/// one slab), or consecutive thin rows joined up to 2^20 values as far as
/// the limit allows. Each slab's blocks are read, rebuilt (threads take
/// whole blocks), converted and written as a hyperslab of the dataset
/// before the next is read. The values and the file are those write_dataset
/// writes from the in-memory reconstruction, bit for bit (contiguous
/// storage, the decomposition's source_attributes on the dataset), and the
/// write is as atomic as write_dataset's, with or without `into_existing`.
///
/// After read_decomposition_info's checks, and before reading any array or
/// creating the output, refuses (errc::limit, one line naming the numbers
/// and the rows) a run whose widths plus largest row of blocks (its terms,
/// values and buffers) need more than `options.max_bytes`: a file is never
/// refused for its whole size. Refuses (errc::invalid_argument) an lplr
/// decomposition (read_decomposition reads it whole) and an unknown dtype;
/// reading refuses non-finite scales, set padding bits and bad streams as
/// read_decomposition does. Blocks stored by zfp (version 3) are read as
/// their streams and decoded with the zfp codec. Returns the shape written.
SIGNCUT_API Shape decompress_in_slabs(const std::string& path, const std::string& output, const std::string& dataset,
                                      const SlabDecompression& options);

// ---------------------------------------------------------------------------
// Decomposition files of method "lplr" (docs/FORMAT.md)
// ---------------------------------------------------------------------------

/// Writes `decomposition` as method "lplr" (format version 2): the attributes
/// of every decomposition file plus matricize, bits_l and bits_r, and the
/// datasets l_codes, l_scales, r_codes, r_scales, chunked with fletcher32 as
/// the sct datasets are. Same guarantees as `write_decomposition`. Read it
/// back with read_decomposition.
SIGNCUT_API void write_lplr(const std::string& path, const LplrDecomposition& decomposition, const Provenance& provenance,
                bool force, const std::string& group = {});

}  // namespace signcut
