// A decomposition as Python holds it: the library's Decomposition (either
// method) with what it knows of its original, which save() writes with it.
#pragma once

#include <cstdint>

#include "signcut/any_decomposition.hpp"
#include "signcut/decomposition_files.hpp"

namespace signcut::python {

struct HeldDecomposition {
    Decomposition decomposition;
    Provenance provenance;  ///< original_dtype, seed, rel_fro_error, norm2, source
    /// compress() only: whether the Python layer converted the input before
    /// the library saw it, and the address the library read from (tests
    /// check it against the caller's buffer).
    bool input_copied = false;
    std::uintptr_t input_address = 0;
};

}  // namespace signcut::python
