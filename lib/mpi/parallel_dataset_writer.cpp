#include "parallel_dataset_writer.hpp"

#include <vector>

#include <fmt/format.h>

#include "carried_attributes.hpp"
#include "streamed_dataset.hpp"

namespace signcut::mpi {

ParallelDatasetWriter::ParallelDatasetWriter(MPI_Comm comm, const std::string& file, const std::string& dataset_path,
                                             std::string shown, const Shape& shape, const io::DtypeSpec& spec)
    : shown_(std::move(shown)), shape_(shape), memory_type_(io::memory_type_of(spec))
{
    h5::PropList fapl = h5::writing_access_properties();
    h5::check_status(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL), errc::io, "cannot set up MPI-IO file access");
    file_ = h5::File(H5Fopen(file.c_str(), H5F_ACC_RDWR, fapl.get()));
    if (!file_) h5::fail(errc::io, fmt::format("cannot open {} with MPI-IO to write {}", file, shown_));

    // The groups on the way, as RowWriter creates them.
    h5::PropList gcpl = h5::untimed_creation_properties(H5P_GROUP_CREATE);
    for (std::size_t pos = dataset_path.find('/', 1); pos != std::string::npos; pos = dataset_path.find('/', pos + 1)) {
        const std::string group = dataset_path.substr(0, pos);
        if (h5::link_exists(file_.get(), group)) continue;
        h5::Group g(H5Gcreate2(file_.get(), group.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT));
        if (!g) h5::fail(errc::io, fmt::format("cannot create group {} in {}", group, shown_));
    }
    const std::vector<hsize_t> dims(shape.begin(), shape.end());
    h5::Dataspace space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    if (!space) h5::fail(errc::io, fmt::format("cannot describe {}", shown_));
    h5::Datatype file_type = io::file_type_of(spec);
    h5::PropList dcpl = h5::untimed_creation_properties(H5P_DATASET_CREATE);
    h5::check_status(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), errc::io, "cannot set the allocation time");
    dataset_ = h5::Dataset(
        H5Dcreate2(file_.get(), dataset_path.c_str(), file_type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
    if (!dataset_) h5::fail(errc::io, fmt::format("cannot create {}", shown_));
    transfer_ = h5::PropList(h5::check(H5Pcreate(H5P_DATASET_XFER), errc::io, "cannot create transfer properties"));
    h5::check_status(H5Pset_dxpl_mpio(transfer_.get(), H5FD_MPIO_COLLECTIVE), errc::io,
                     "cannot ask for a collective write");
}

void ParallelDatasetWriter::write(std::size_t first, std::size_t rows, const void* values)
{
    if (first > shape_[0] || rows > shape_[0] - first)
        throw Error(errc::invalid_argument, fmt::format("cannot write rows {}:{} of {}, whose mode 0 has {}", first,
                                                        first + rows, shown_, shape_[0]));
    h5::Dataspace file_space(H5Dget_space(dataset_.get()));
    std::uint64_t inner = 1;
    for (std::size_t a = 1; a < shape_.size(); ++a) inner *= shape_[a];
    const hsize_t n = std::uint64_t{rows} * inner;
    // A rank with no rows this round still takes part, selecting nothing.
    const hsize_t one = 1;
    h5::Dataspace memory_space(H5Screate_simple(1, rows == 0 ? &one : &n, nullptr));
    if (!file_space || !memory_space) h5::fail(errc::io, fmt::format("cannot describe a slab of {}", shown_));
    if (rows == 0) {
        h5::check_status(H5Sselect_none(file_space.get()), errc::io, "cannot select nothing");
        h5::check_status(H5Sselect_none(memory_space.get()), errc::io, "cannot select nothing");
    } else {
        // The rows are one run of the C-ordered dataset: one hyperslab.
        std::vector<hsize_t> start(shape_.size(), 0), count(shape_.begin(), shape_.end());
        start[0] = first;
        count[0] = rows;
        h5::check_status(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                                             nullptr),
                         errc::io, fmt::format("cannot select rows {}:{} of {}", first, first + rows, shown_));
    }
    // HDF5 refuses a null buffer even for an empty selection in some
    // releases; a rank with no slabs has no buffer.
    static const unsigned char nothing = 0;
    if (values == nullptr) values = &nothing;
    h5::check_status(H5Dwrite(dataset_.get(), memory_type_.get(), memory_space.get(), file_space.get(),
                              transfer_.get(), values),
                     errc::io, fmt::format("cannot write rows {}:{} of {}", first, first + rows, shown_));
}

void ParallelDatasetWriter::finish(std::span<const CarriedAttribute> attributes)
{
    io::write_carried_attributes(dataset_.get(), attributes, shown_);
    if (!dataset_.close() || !file_.close()) h5::fail(errc::io, fmt::format("cannot write {}", shown_));
}

}  // namespace signcut::mpi
