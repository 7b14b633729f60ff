// Internal: reading and writing the attributes a dataset carries through a
// decomposition (signcut::CarriedAttribute).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "hdf5_handle.hpp"
#include "signcut/hdf5.hpp"

namespace signcut::io {

/// The attributes of `object` that can be carried, in name order; each of
/// the others goes to `skipped` as "name: why". Variable-length strings are
/// read only after a trial read in a child process (variable_length.hpp). `strict` (reading a decomposition's
/// `source_attributes`, which the format restricts): anything else, a
/// variable-length string included, is refused naming `shown` instead of
/// skipped. Sizes are checked from the dataspace before anything is read.
std::vector<CarriedAttribute> read_carried_attributes(hid_t object, const std::string& shown,
                                                      std::vector<std::string>* skipped, bool strict);

/// Writes `attributes` onto `object` (little-endian numbers, fixed-length
/// UTF-8 strings). Refuses malformed entries (a byte count that disagrees with
/// the dims and element size).
void write_carried_attributes(hid_t object, std::span<const CarriedAttribute> attributes, const std::string& shown);

}  // namespace signcut::io
