// Internal: the per-method halves of the one decomposition reader
// (hdf5.hpp's read_decomposition_info and read_decomposition). The common
// part (root, version, /decomposition and its common attributes) is read
// first by read_common (decomposition_file.hpp); each method then checks
// its own attributes and datasets, version 1 or 2.
#pragma once

#include <cstdint>
#include <string>

#include "decomposition_file.hpp"
#include "signcut/blocks.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/lplr.hpp"

namespace signcut::io {

/// sct: fills `info` from `common` and the method's own attributes, checks
/// the datasets' metadata, and (version 2) reads `widths`, refusing
/// (errc::limit) one that needs more than `widths_limit` bytes.
void read_sct_info(hid_t file, const std::string& path, CommonAttributes& common, DecompositionInfo& info,
                   std::uint64_t widths_limit);
/// sct: after read_sct_info, the memory check, then the arrays (only the
/// blocks `region` touches, when given).
SignedCutDecomposition read_sct_arrays(hid_t file, const std::string& path, const DecompositionInfo& info,
                                       std::uint64_t max_bytes, const Region* region);

/// lplr: as read_sct_info.
void read_lplr_info(hid_t file, const std::string& path, CommonAttributes& common, DecompositionInfo& info);
/// lplr: after read_lplr_info, the memory check, then every array (a region
/// is cut from the full reconstruction, so it only adds its own bytes).
LplrDecomposition read_lplr_arrays(hid_t file, const std::string& path, const DecompositionInfo& info,
                                   std::uint64_t max_bytes, const Region* region);

/// Elements of a region's result (1 for order 0).
std::uint64_t region_elements(const Region& region);

}  // namespace signcut::io
