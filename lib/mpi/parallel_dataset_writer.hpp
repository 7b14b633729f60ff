// A dataset of an HDF5 file written by every rank at once with parallel
// HDF5, one slab of whole rows along mode 0 per rank and round.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include <mpi.h>

#include "dtype.hpp"
#include "hdf5_handle.hpp"
#include "signcut/datasets.hpp"
#include "signcut/tensor.hpp"

namespace signcut::mpi {

/// Every member is collective: every rank calls it, in the same order, or
/// the ranks wait for each other forever. A rank with nothing to write in a
/// round still calls `write`, with no rows.
///
/// The file is one that exists already (an AtomicOutput's temporary, which
/// rank 0 made: a new HDF5 file, or the copy of an existing one); the
/// dataset is new. Its layout is io::RowWriter's (contiguous, little-endian,
/// no object times), with its space allocated at creation, as parallel HDF5
/// does for every contiguous dataset, so that ranks write into place. The
/// values a rank passes are already in the stored type
/// (io::convert_for_storage): a collective transfer that HDF5 converted
/// could split into a number of pieces that differs between ranks.
class ParallelDatasetWriter {
public:
    /// Opens `file` with MPI-IO and creates `dataset_path` ("/a/b"; groups
    /// on the way are created) of `shape` and `spec`'s dtype. `shown`
    /// ("out.h5:/a/b") names it in messages.
    ParallelDatasetWriter(MPI_Comm comm, const std::string& file, const std::string& dataset_path, std::string shown,
                          const Shape& shape, const io::DtypeSpec& spec);
    ParallelDatasetWriter(const ParallelDatasetWriter&) = delete;
    ParallelDatasetWriter& operator=(const ParallelDatasetWriter&) = delete;
    /// Closes what is still open (after a failure every rank agreed on).
    ~ParallelDatasetWriter() = default;

    /// One round: this rank writes rows [first, first + rows) of mode 0
    /// from `values` (C order, in memory_type_of(spec)); `rows` may be 0.
    void write(std::size_t first, std::size_t rows, const void* values);

    /// Writes `attributes` onto the dataset (the same on every rank) and
    /// closes the dataset and the file, where HDF5 writes what it buffered.
    void finish(std::span<const CarriedAttribute> attributes);

private:
    std::string shown_;
    Shape shape_;
    h5::Datatype memory_type_;
    h5::File file_;
    h5::Dataset dataset_;
    h5::PropList transfer_;
};

}  // namespace signcut::mpi
