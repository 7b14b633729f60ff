// The avx512 kernels. (Placeholder: portable loops compiled with avx512 flags.)
#define SIGNCUT_KERNEL_NS avx512
#include "portable_impl.hpp"
#include "tables.hpp"

namespace signcut::kernels::detail {

const Table& avx512_table() noexcept
{
    namespace p = avx512::portable;
    static const Table t{Arch::avx512,  &p::dense_matvec, &p::dense_tmatvec, &p::sign_matvec, &p::sign_tmatvec,
                         &p::sign_dots, &p::kron,         &p::rows_add,      &p::sign_gemm};
    return t;
}

}  // namespace signcut::kernels::detail
