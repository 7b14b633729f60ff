// signcut: whole HDF5 files rewritten object by object (compress --all,
// decompress --all). The rules of signcut/datasets.hpp hold.
#pragma once

#include "signcut/export.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "signcut/decomposition_files.hpp"

namespace signcut {

/// A dataset copied through the HDF5 filter (hdf5_filter.hpp).
struct SIGNCUT_API FilteredCopy {
    std::vector<unsigned> parameters;  ///< the filter's cd_values (hdf5_filter_parameters)
    Shape chunk;                       ///< the chunk shape, of the dataset's rank
};

/// What replaces one object in a whole-file rewrite.
struct SIGNCUT_API ObjectReplacement {
    /// A dataset is rewritten through the signcut filter with these chunks:
    /// the same type, shape, fill value and attributes, copied slab by slab
    /// (at most 64 MiB of it held at once). The filter must be registered.
    std::optional<FilteredCopy> filtered;
    /// A dataset becomes this decomposition, a group of the same path.
    std::optional<Decomposition> decomposition;
    Provenance provenance;
    /// A decomposition group becomes this dataset, stored as `dtype` with
    /// `attributes`.
    std::optional<Tensor> data;
    std::string dtype;
    std::vector<CarriedAttribute> attributes;
};

/// Called for every dataset (`is_decomposition` false) and for every group
/// that holds a signcut decomposition (true), in name order: returns what
/// replaces it, or nothing to copy it as it is.
using ObjectTransform = std::function<std::optional<ObjectReplacement>(const std::string& path, bool is_decomposition)>;

/// Writes `output` as a new file (atomically; an existing file is refused
/// unless `force`) holding `input` object by object: every group with its
/// attributes, what `transform` replaces, and every other object copied as
/// it is (H5Ocopy: data, chunking, filters; then its attributes). Soft and
/// external links are recreated. Object references cannot be carried into
/// another file this way: attributes holding them are left out and datasets
/// holding them point nowhere; the returned notes say which, one line each.
SIGNCUT_API std::vector<std::string> rewrite_file(const std::string& input, const std::string& output, bool force,
                                      const ObjectTransform& transform);

}  // namespace signcut
