// Internal: a dataset written in slabs of whole rows along mode 0, each slab
// converted to the stored dtype as write_dataset documents (signcut/
// datasets.hpp). write_dataset is the one-slab case; a streamed decompress
// writes one slab per row of blocks, so the whole tensor is never held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "dtype.hpp"
#include "hdf5_handle.hpp"
#include "signcut/datasets.hpp"

namespace signcut::io {

/// "/a/b" from "a/b" or "/a/b"; refuses (errc::invalid_argument) the empty
/// name, the root and names HDF5 would misread ("a//b", "a/").
std::string absolute_dataset_path(std::string_view name);

/// Whether values of float (or, with `from_double`, double) are stored in
/// `spec` as they are, with no conversion.
bool stored_as_given(const DtypeSpec& spec, bool from_double);

/// Converts `data` to `spec`'s stored type as RowWriter::write does (the
/// same rounding, clamping and refusals; `first` is the dataset entry of
/// data[0] and `shown` names the dataset, for messages) into `out`, which
/// holds data.size() · spec.size bytes, in the type memory_type_of(spec):
/// for writers that make their own transfers (signcut-mpi's collective
/// writes, which must not leave the conversion to HDF5, as a rank's
/// transfer is then split in pieces whose number depends on the shape).
void convert_for_storage(const DtypeSpec& spec, std::span<const float> data, std::uint64_t first,
                         const std::string& shown, void* out);
void convert_for_storage(const DtypeSpec& spec, std::span<const double> data, std::uint64_t first,
                         const std::string& shown, void* out);

/// The native-order HDF5 type of convert_for_storage's output.
h5::Datatype memory_type_of(const DtypeSpec& spec);

/// One dataset of `shape` and `spec`'s dtype (little-endian, contiguous, no
/// times recorded), created with the groups above it in an open file and
/// filled by `write` calls that together cover every row of mode 0 once.
///
/// Contiguous storage keeps the layout write_dataset has always written, and
/// in it a slab of whole rows is one run of the file, so each write is one
/// sequential write, with no chunk index and no chunk cache.
class RowWriter {
public:
    /// `shown` ("out.h5:/data") names the dataset in messages.
    RowWriter(hid_t file, const std::string& dataset_path, std::string shown, std::span<const std::size_t> shape,
              const DtypeSpec& spec);

    /// Writes rows [first, first + rows) of mode 0 from `data`, C-ordered
    /// (rows · Π_{a>0} d_a values). Messages count entries from the start of
    /// the dataset, as a write of the whole tensor would.
    void write(std::size_t first, std::size_t rows, const float* data);
    void write(std::size_t first, std::size_t rows, const double* data);

    /// Writes `attributes` onto the dataset (after its values, as
    /// write_dataset always has) and closes it.
    void finish(std::span<const CarriedAttribute> attributes);

    /// The conversion buffer one `write` of `values` values holds beyond its
    /// input: none where HDF5 stores the values as given (float32 from
    /// float, float64 from double), HDF5's own 1 MiB type-conversion buffer
    /// between float and double, and at most 2^20 converted elements for
    /// float16 and the integer types.
    static std::uint64_t buffer_bytes(const DtypeSpec& spec, bool from_double, std::uint64_t values);

private:
    template <class S>
    void write_values(std::size_t first, std::size_t rows, const S* data);

    std::string shown_;
    Shape shape_;
    const DtypeSpec* spec_;
    h5::Dataset dataset_;
};

}  // namespace signcut::io
