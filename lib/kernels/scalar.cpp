// The scalar kernels: portable C++ with no SIMD assumptions. They are also
// the reference the SIMD paths are tested against (besides a double-precision
// recomputation).
#define SIGNCUT_KERNEL_NS scalar
#include "portable_impl.hpp"
#include "tables.hpp"

namespace signcut::kernels::detail {

const Table& scalar_table() noexcept
{
    namespace p = scalar::portable;
    static const Table t{Arch::scalar,  &p::dense_matvec, &p::dense_tmatvec, &p::sign_matvec, &p::sign_tmatvec,
                         &p::sign_dots, &p::kron,         &p::rows_add,      &p::sign_gemm,
                         &p::abs_sum,    &p::pack_signs,    &p::subtract_rank4};
    return t;
}

}  // namespace signcut::kernels::detail
