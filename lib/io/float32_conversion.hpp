// Internal: a dataset's values read as float32, as read_dataset documents
// (signcut/datasets.hpp), and the refusals of what float32 cannot hold.
// read_dataset reads the whole dataset at once and open_dataset_rows a slab
// of rows at a time; both convert and refuse through these, so a tensor
// streamed row by row is read exactly as one read whole.
#pragma once

#include <cstdint>
#include <string>

#include "hdf5_handle.hpp"

namespace signcut::io {

/// Reads the selection `file_space` of `dataset`, whose dtype is `dtype`,
/// into `out` as `count` float32 values laid out by `memory_space`
/// (H5S_ALL for both: the whole dataset). float16 is widened in place from
/// the halves (no second buffer); every other dtype is converted by HDF5.
/// Returns how many finite float64 values were beyond the float32 range
/// (HDF5 stores them as ±Inf without complaint). `what` names the read in
/// messages ("cannot read {what}").
std::uint64_t read_as_float32(hid_t dataset, const std::string& dtype, hid_t memory_space, hid_t file_space,
                              float* out, std::uint64_t count, const std::string& what);

/// Refuses (errc::bad_input) the dataset `name`, which holds `count`
/// values of `dtype` beyond the float32 range.
[[noreturn]] void refuse_beyond_float32(const std::string& name, std::uint64_t count, const std::string& dtype);

/// Refuses (errc::bad_input) the dataset `name`, which holds `nans` NaN and
/// `infs` infinite values.
[[noreturn]] void refuse_non_finite(const std::string& name, std::uint64_t nans, std::uint64_t infs);

}  // namespace signcut::io
