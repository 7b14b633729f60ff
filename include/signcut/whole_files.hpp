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

/// What replaces one object in a whole-file rewrite.
struct SIGNCUT_API ObjectReplacement {
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
