// Variable-length data in files signcut did not write: tried in a child
// process before the real read (see trial_in_child.hpp for why).
#pragma once

#include <hdf5.h>

#include "trial_in_child.hpp"

namespace signcut::io {

/// Whether values of `type` hold variable-length data anywhere (strings,
/// sequences, or either inside a compound or an array), which HDF5 keeps in
/// the file's global heap.
bool has_variable_length(hid_t type);

/// Reads all of `attribute` as `memory_type` in a child process and frees
/// what the read allocated. A success means the same read is safe here.
Trial trial_attribute_read(hid_t attribute, hid_t memory_type);

/// Reads all of `dataset` in its own type, slab by slab, in a child
/// process: the check before copying a dataset of variable-length values.
Trial trial_dataset_read(hid_t dataset);

}  // namespace signcut::io
