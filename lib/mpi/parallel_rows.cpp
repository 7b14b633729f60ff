#include "parallel_rows.hpp"

#include "hdf5_handle.hpp"
#include "hdf5_rows.hpp"

namespace signcut::mpi {

std::unique_ptr<RowSource> open_parallel_dataset_rows(MPI_Comm comm, const std::string& file,
                                                      const std::string& dataset, std::string* original_dtype)
{
    h5::PropList fapl = h5::file_access_properties();
    h5::check_status(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL), errc::io,
                     "cannot set up MPI-IO file access");
    return io::open_dataset_rows_with(file, dataset, original_dtype, fapl.get());
}

}  // namespace signcut::mpi
