// open_dataset_rows() with the file access properties given (the MPI front
// end passes MPI-IO's); inside the I/O layer only, since it names an HDF5
// type.
#pragma once

#include <memory>
#include <string>

#include <hdf5.h>

#include "signcut/row_source.hpp"

namespace signcut::io {

/// As open_dataset_rows(); `access` replaces the usual file access
/// properties unless it is H5I_INVALID_HID.
std::unique_ptr<RowSource> open_dataset_rows_with(const std::string& file, const std::string& dataset,
                                                  std::string* original_dtype, hid_t access);

}  // namespace signcut::io
