// The per-ISA kernel tables, each defined in its own translation unit.
#pragma once

#include "signcut/kernels.hpp"

namespace signcut::kernels::detail {

const Table& scalar_table() noexcept;
const Table& avx2_table() noexcept;
const Table& avx512_table() noexcept;

}  // namespace signcut::kernels::detail
