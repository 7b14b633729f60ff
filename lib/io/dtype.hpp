// Internal: the element types signcut reads and writes, and their HDF5 types.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "hdf5_handle.hpp"

namespace signcut::io {

enum class DtypeKind { float16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64 };

struct DtypeSpec {
    DtypeKind kind;
    std::string_view name;  ///< "float32", ...
    std::size_t size;       ///< bytes per element
};

/// The spec of a dtype name; throws Error(errc::invalid_argument) listing the
/// valid names otherwise.
const DtypeSpec& dtype_spec(std::string_view name);

/// The dtype name of an HDF5 type, or Error(errc::bad_input) naming the
/// class (string, compound, enum, ...) or the unsupported float layout.
/// `name` is the dataset, for the message.
std::string dtype_of(hid_t type, const std::string& name);

/// A new little-endian HDF5 type for `spec` (IEEE binary16 for float16).
h5::Datatype file_type_of(const DtypeSpec& spec);

}  // namespace signcut::io
