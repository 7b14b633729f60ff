// Alternative AVX-512 tables, for tests that must reach code paths this CPU
// would not otherwise choose.
#pragma once

#include "signcut/kernels.hpp"

namespace signcut::kernels::detail {

/// The avx512 table with sign_dots counting bits by nibble lookup, as on
/// AVX-512 CPUs without VPOPCNTDQ (`avx512_table()` picks by cpuid). Only
/// for CPUs that can run the avx512 kernels.
const Table& avx512_table_without_vpopcntdq() noexcept;

}  // namespace signcut::kernels::detail
