// signcut: HDF5 datasets in and out (the serial HDF5 library).
//
// Every function reports failure by throwing signcut::Error with one line
// that names the file, the dataset or attribute and the offending value.
// HDF5's own error printing is switched off while signcut calls into HDF5
// (and restored afterwards), so nothing else reaches stderr.
//
// Outputs are written atomically (signcut/files.hpp): a failed or
// interrupted write leaves no partial output and no temporary file behind.
//
// HDF5 is usually built without thread safety (Debian's is): call these
// functions from one thread at a time, and not while another thread of the
// program uses HDF5.
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signcut/row_source.hpp"
#include "signcut/tensor.hpp"

namespace signcut {

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

/// What a dataset stores: its metadata, its values and the bytes HDF5
/// keeps for them (H5Dget_storage_size: after filters, before metadata).
struct SIGNCUT_API DatasetStorage {
    Shape shape;
    std::string dtype;
    std::uint64_t values = 0;
    std::uint64_t stored_bytes = 0;
};
SIGNCUT_API DatasetStorage dataset_storage(const std::string& file, const std::string& dataset);

/// The chunk shape of a chunked dataset; nothing for a contiguous or
/// compact one.
SIGNCUT_API std::optional<Shape> dataset_chunk_shape(const std::string& file, const std::string& dataset);

/// Absolute paths ("/group/name") of every dataset in `file`, in name order.
SIGNCUT_API std::vector<std::string> list_datasets(const std::string& file);


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

/// The dataset of read_dataset opened for reading a slab of rows at a time
/// (along mode 0, every other mode whole): what decompose(RowSource&) streams
/// from, so the data never has to fit in memory. The metadata checks of
/// read_dataset are made here; each read makes its value checks (NaN, Inf,
/// float64 beyond float32) on the rows it reads. The file stays open while
/// the source lives; use it from one thread at a time.
SIGNCUT_API std::unique_ptr<RowSource> open_dataset_rows(const std::string& file, const std::string& dataset,
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
/// compounds, enums, variable-length sequences), larger than 16 MiB, or
/// variable-length strings whose trial read in a child process crashed or
/// hung (a damaged heap) are left out, each appended to `skipped` if given
/// as "name: why".
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

}  // namespace signcut
