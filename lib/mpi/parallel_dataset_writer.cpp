#include "parallel_dataset_writer.hpp"

#include <vector>

#include <fmt/format.h>

#include "hdf5_handle.hpp"

namespace signcut::mpi {

void write_rows_together(MPI_Comm comm, const std::string& file, const std::string& dataset, const Shape& shape,
                         std::size_t first_row, std::size_t rows, const float* values)
{
    h5::QuietErrors quiet;
    const std::string shown = fmt::format("{}:{}", file, dataset);
    h5::PropList fapl = h5::writing_access_properties();
    h5::check_status(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL), errc::io, "cannot set up MPI-IO file access");
    h5::PropList fcpl = h5::untimed_creation_properties(H5P_FILE_CREATE);
    h5::File f(H5Fcreate(file.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()));
    if (!f) h5::fail(errc::io, fmt::format("cannot create the HDF5 file {}", file));

    const int k = static_cast<int>(shape.size());
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    h5::Dataspace file_space(H5Screate_simple(k, dims.data(), nullptr));
    if (!file_space) h5::fail(errc::io, fmt::format("cannot describe {}", shown));
    h5::PropList dcpl = h5::untimed_creation_properties(H5P_DATASET_CREATE);
    // Space is allocated at creation, as parallel HDF5 does for every
    // contiguous dataset, so that ranks write into place.
    h5::check_status(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), errc::io, "cannot set the allocation time");
    h5::Dataset d(H5Dcreate2(f.get(), dataset.c_str(), H5T_IEEE_F32LE, file_space.get(), H5P_DEFAULT, dcpl.get(),
                             H5P_DEFAULT));
    if (!d) h5::fail(errc::io, fmt::format("cannot create {}", shown));

    std::vector<hsize_t> start(shape.size(), 0), count(dims);
    start[0] = first_row;
    count[0] = rows;
    h5::Dataspace memory_space(H5Screate_simple(k, count.data(), nullptr));
    if (rows == 0) {
        h5::check_status(H5Sselect_none(file_space.get()), errc::io, "cannot select nothing");
        h5::check_status(H5Sselect_none(memory_space.get()), errc::io, "cannot select nothing");
    } else {
        h5::check_status(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                                             nullptr),
                         errc::io, fmt::format("cannot select rows {}..{} of {}", first_row, first_row + rows, shown));
    }
    h5::PropList dxpl(h5::check(H5Pcreate(H5P_DATASET_XFER), errc::io, "cannot create transfer properties"));
    h5::check_status(H5Pset_dxpl_mpio(dxpl.get(), H5FD_MPIO_COLLECTIVE), errc::io, "cannot ask for a collective write");
    h5::check_status(H5Dwrite(d.get(), H5T_NATIVE_FLOAT, memory_space.get(), file_space.get(), dxpl.get(), values),
                     errc::io, fmt::format("cannot write rows {}..{} of {}", first_row, first_row + rows, shown));
}

}  // namespace signcut::mpi
