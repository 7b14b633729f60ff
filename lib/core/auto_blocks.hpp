// The auto block shape, with the decomposition it was chosen by (decompose()
// reuses it when the candidates were tried on all of the data).
#pragma once

#include <optional>

#include "signcut/decompose.hpp"

namespace signcut::detail {

struct AutoChoice {
    Shape shape;
    /// The best candidate's decomposition of all of the data with the
    /// run's own options, when that is how it was chosen.
    std::optional<SignedCutDecomposition> result;
    DecomposeReport report;
};

AutoChoice auto_blocks(const TensorView<float>& x, const DecomposeOptions& options);
AutoChoice auto_blocks(const TensorView<double>& x, const DecomposeOptions& options);
/// The same rule, reading only the rows of its crop (a row at a time).
AutoChoice auto_blocks(RowSource& source, const DecomposeOptions& options);

}  // namespace signcut::detail
