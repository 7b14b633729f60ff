// signcut: HDF5 datasets in, HDF5 datasets and decomposition files out.
//
// Every function reports failure by throwing signcut::Error with one line
// that names the file, the dataset or attribute and the offending value.
// HDF5's own error printing is switched off while signcut calls into HDF5
// (and restored afterwards), so nothing else reaches stderr.
//
// Outputs are written atomically: the data goes to a temporary file next to
// the output (".NAME.signcut-tmp-XXXXXX"), which is flushed to disk and then
// renamed over the output. A failed or interrupted write leaves no partial
// output and no temporary file behind (the temporary is removed on failure).
//
// HDF5 is usually built without thread safety (Debian's is): call these
// functions from one thread at a time, and not while another thread of the
// program uses HDF5.
//
// The decomposition file layout is described in docs/FORMAT.md.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signcut/any_decomposition.hpp"
#include "signcut/blocks.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/lplr.hpp"
#include "signcut/tensor.hpp"

namespace signcut {

// ---------------------------------------------------------------------------
// Memory limits
// ---------------------------------------------------------------------------

/// 80 % of the machine's physical memory (sysconf), the default of
/// `--max-memory`. Falls back to 4 GiB if the OS does not say.
SIGNCUT_API std::uint64_t default_memory_limit();


// ---------------------------------------------------------------------------
// Output paths
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Datasets
// ---------------------------------------------------------------------------

/// Element type names used for datasets and for `original_dtype`.
/// float16 float32 float64 int8 int16 int32 int64 uint8 uint16 uint32 uint64.
/// Returns the size in bytes of one element of `dtype`; throws
/// Error(errc::invalid_argument) for any other name.
SIGNCUT_API std::size_t dtype_size(std::string_view dtype);

/// A dataset's shape (C order, HDF5 dimension a = mode a) and element type.
struct SIGNCUT_API DatasetInfo {
    Shape shape;
    std::string dtype;  ///< one of the dtype names above
};

/// Reads a dataset's metadata only. Throws Error(errc::bad_input) for
/// anything `read_dataset` would refuse on metadata alone: a class other than
/// integer or float (the message names the class: string, compound, enum,
/// ...), a float that is not IEEE binary16/32/64, rank 0, or zero size.
SIGNCUT_API DatasetInfo inspect_dataset(const std::string& file, const std::string& dataset);

/// Absolute paths ("/group/name") of every dataset in `file`, in name order.
SIGNCUT_API std::vector<std::string> list_datasets(const std::string& file);

/// A dataset named on the command line.
struct SIGNCUT_API DatasetRef {
    std::string file;
    std::string dataset;  ///< absolute path inside the file, e.g. "/temperature"
};

/// Resolves a CLI input spec: "FILE.h5:/path", "FILE.h5::/path" (the silx
/// spelling) or "FILE.h5" when the file holds exactly one dataset. The file
/// part is the longest prefix ending before a ':' that names an existing
/// file, so file names containing ':' work. The dataset must exist; a bare
/// file with zero or several datasets is refused with a message listing them.
SIGNCUT_API DatasetRef resolve_dataset(std::string_view spec);

/// Reads an integer or float dataset of rank >= 1 as float32, contiguous or
/// chunked with any filter HDF5 can decode (gzip, shuffle, ...).
///
/// Validation happens before anything is allocated: the checks of
/// `inspect_dataset`, then the element count and its float32 bytes against
/// `max_bytes` (Error(errc::limit) naming both numbers). After reading, the
/// data is refused if it holds NaN or Inf values (the message counts them),
/// or float64 values beyond the float32 range.
///
/// Integers convert with round-to-nearest (int32/int64 above 2^24 lose low
/// bits); float16 converts exactly. `original_dtype`, if given, receives the
/// dataset's dtype name.
SIGNCUT_API Tensor read_dataset(const std::string& file, const std::string& dataset, std::uint64_t max_bytes,
                    std::string* original_dtype = nullptr);

/// One attribute of a source dataset, carried into a decomposition file
/// (`/decomposition/source_attributes`, format §6) and back onto the dataset
/// that decompress writes: units, axes, licences, fill values. Numbers keep
/// their type (floats narrower than 32 bits widen to float32); strings, fixed-
/// or variable-length in the source, become fixed-length null-terminated
/// UTF-8, the one string kind the format allows.
struct SIGNCUT_API CarriedAttribute {
    enum class Kind { signed_integer, unsigned_integer, floating, string };
    std::string name;
    Kind kind = Kind::floating;
    /// Bytes per element: 1, 2, 4 or 8 for integers, 4 or 8 for floats, the
    /// fixed length including its NUL for strings.
    std::size_t element_size = 0;
    std::vector<std::uint64_t> dims;  ///< empty: a scalar
    std::vector<unsigned char> bytes;  ///< the elements, little-endian; strings NUL-padded

    bool operator==(const CarriedAttribute&) const = default;
};

/// Reads the attributes of a dataset that can be carried, in name order.
/// Attributes of other kinds (object references such as DIMENSION_LIST,
/// compounds, enums, variable-length sequences) or larger than 16 MiB are
/// left out, and their names appended to `skipped` if given.
SIGNCUT_API std::vector<CarriedAttribute> read_dataset_attributes(const std::string& file, const std::string& dataset,
                                                      std::vector<std::string>* skipped = nullptr);

/// Writes C-ordered float32 data as a new file holding one dataset
/// `dataset` (intermediate groups are created) of shape `shape` stored as
/// `dtype` (little-endian, contiguous):
///  * float32 and float64 store the values exactly;
///  * float16 (IEEE binary16) rounds to nearest-even; finite values beyond
///    ±65504 are clamped to ±65504, infinities and NaN are kept;
///  * integer types round half away from zero and clamp to the type's range
///    (±Inf clamp to the ends); NaN cannot be stored and is refused.
/// An existing `path` is refused unless `force`. The write is atomic.
///
/// With `into_existing`, `path` may be an existing HDF5 file: the dataset is
/// added to it, or replaces an object of that name (only with `force`), and
/// every other object and attribute of the file is kept as it was (the file
/// is edited on a copy that is renamed over it; it keeps its mode and owner).
/// `attributes` are written onto the dataset.
SIGNCUT_API void write_dataset(const std::string& path, const std::string& dataset, const float* data,
                   std::span<const std::size_t> shape, std::string_view dtype, bool force,
                   bool into_existing = false, std::span<const CarriedAttribute> attributes = {});
/// The same for C-ordered float64 data (a float64 reconstruction): float64
/// stores the values exactly; float32 rounds to nearest and refuses
/// (errc::bad_input) finite values beyond its range rather than store ±Inf;
/// float16 and the integer types convert as above, from double.
SIGNCUT_API void write_dataset(const std::string& path, const std::string& dataset, const double* data,
                   std::span<const std::size_t> shape, std::string_view dtype, bool force,
                   bool into_existing = false, std::span<const CarriedAttribute> attributes = {});

// ---------------------------------------------------------------------------
// Decomposition files (format version 2; version 1 is still read)
// ---------------------------------------------------------------------------

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
    /// sct: the block shape and each block's width (a version-1 file is
    /// one block: block_shape = shape, widths = {width}).
    Shape block_shape;
    std::vector<std::uint64_t> widths;
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
    /// The logical count: sct Σ_b w_b·(Σ_a e_{b,a} + 32) / N; lplr
    /// rank·(n·bits_l + d·bits_r + 64) / N.
    double counted_bits_per_value() const;
};

/// "2024-05-01T12:34:56Z", the current UTC time.
SIGNCUT_API std::string iso8601_utc_now();

/// Writes `decomposition` (method "sct", format version 2, docs/FORMAT.md):
/// root attributes signcut_format and format_version, group /decomposition
/// with its attributes (@block_shape, @norm2 from the provenance, ...) and
/// the datasets widths, scales and signs, each chunked with HDF5's
/// fletcher32 checksum and with the chunking stored_dataset_bytes() assumes,
/// so that the payload is decomposition.payload(). Fixed-length strings
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
/// method without reading its arrays (sct's `widths` excepted). Refuses
/// (errc::bad_input, naming the file and the item): a file that is not HDF5
/// or not a signcut decomposition, a format_version other than 1 or 2, a
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
/// scales and set padding bits. With `region` (sct only; lplr reads
/// everything), only the blocks the region touches are read: the other
/// blocks come back with no terms, so the result serves that region only.
SIGNCUT_API Decomposition read_decomposition(const std::string& path, std::uint64_t max_bytes, DecompositionInfo* info = nullptr,
                                 const Region* region = nullptr);

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

// ---------------------------------------------------------------------------
// Whole files (compress --all, decompress --all)
// ---------------------------------------------------------------------------

/// What replaces one object in a whole-file rewrite.
struct SIGNCUT_API ObjectReplacement {
    /// A dataset becomes this decomposition, a group of the same path.
    std::optional<Decomposition> decomposition;
    Provenance provenance;
    /// A decomposition group becomes this dataset, stored as `dtype` with
    /// `attributes`.
    std::optional<Tensor> data;
    std::string dtype;
    std::vector<CarriedAttribute> attributes;
};

/// Called for every dataset (`is_decomposition` false) and for every group
/// that holds a signcut decomposition (true), in name order: returns what
/// replaces it, or nothing to copy it as it is.
using ObjectTransform = std::function<std::optional<ObjectReplacement>(const std::string& path, bool is_decomposition)>;

/// Writes `output` as a new file (atomically; an existing file is refused
/// unless `force`) holding `input` object by object: every group with its
/// attributes, what `transform` replaces, and every other object copied as
/// it is (H5Ocopy: data, chunking, filters; then its attributes). Soft and
/// external links are recreated. Object references cannot be carried into
/// another file this way: attributes holding them are left out and datasets
/// holding them point nowhere; the returned notes say which, one line each.
SIGNCUT_API std::vector<std::string> rewrite_file(const std::string& input, const std::string& output, bool force,
                                      const ObjectTransform& transform);

}  // namespace signcut
