// signcut: the HDF5 filter, which stores each chunk of a float32 or float64
// dataset as a chunk stream (chunk_stream.hpp), so that any HDF5 program
// with the plugin on its path (h5py, h5dump, h5repack, netCDF-4) reads and
// writes signcut-compressed datasets without knowing signcut.
//
// The parameters (HDF5's cd_values, unsigned 32-bit each; a double is two,
// low word first, a 64-bit integer likewise):
//
//   [0]      parameter version: 1
//   [1]      rule: 1 bits per value, 2 relative error, 3 RMSE (per chunk)
//   [2, 3]   the rule's value, a double
//   [4, 5]   seed, a 64-bit integer
//   [6]      1: blocks may be stored with zfp; 0: signed cuts only
//   [7]      k: the number of block extents that follow (0: the auto rule
//            on each chunk)
//   [8 …]    the block shape within a chunk, k extents (each clamped to
//            the chunk's)
//
// Fewer values take these defaults: 1 bit per value, seed 0, zfp allowed,
// auto blocks. When a dataset is created, the filter appends what HDF5
// knows then: the element type (0 float32, 1 float64), the chunk's order
// and its dims; a reader trusts those, never the chunk's own bytes, for
// the size of what it allocates. docs/FORMAT.md, "The HDF5 filter", has it
// all with examples.
#pragma once

#include "signcut/export.hpp"

#include <cstdint>
#include <vector>

#include "signcut/chunk_stream.hpp"

namespace signcut {

/// The filter's id, from the range HDF5 leaves to unregistered filters
/// (32768–65535); a permanent one is requested from The HDF Group.
inline constexpr unsigned hdf5_filter_id = 34021;
/// The version of the parameter layout above.
inline constexpr unsigned hdf5_filter_parameter_version = 1;

/// The parameters (cd_values) for an encoding, as the layout above.
SIGNCUT_API std::vector<unsigned> hdf5_filter_parameters(const ChunkEncoding& encoding);

/// The filter's H5Z_class2_t, for H5Zregister or a plugin's
/// H5PLget_plugin_info (returned as const void*, so that this header needs
/// no HDF5 header).
SIGNCUT_API const void* hdf5_filter_class() noexcept;

/// Registers the filter with the process's HDF5 (once; later calls do
/// nothing). Throws Error(errc::io) if HDF5 refuses.
SIGNCUT_API void register_hdf5_filter();

}  // namespace signcut
