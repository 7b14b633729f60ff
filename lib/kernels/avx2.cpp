// The avx2 kernels. (Placeholder: portable loops compiled with avx2 flags.)
#define SIGNCUT_KERNEL_NS avx2
#include "portable_impl.hpp"
#include "tables.hpp"

namespace signcut::kernels::detail {

const Table& avx2_table() noexcept
{
    namespace p = avx2::portable;
    static const Table t{Arch::avx2,  &p::dense_matvec, &p::dense_tmatvec, &p::sign_matvec, &p::sign_tmatvec,
                         &p::sign_dots, &p::kron,         &p::rows_add,      &p::sign_gemm};
    return t;
}

}  // namespace signcut::kernels::detail
