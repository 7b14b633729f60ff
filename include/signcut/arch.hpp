// signcut: which instruction set the kernels run on.
//
// One build serves every x86-64 CPU. At first use the library reads cpuid and
// XGETBV (the OS must have enabled the register state, which cpuid alone does
// not say) and picks the best of avx512 > avx2 > scalar. The environment
// variable SIGNCUT_ARCH=scalar|avx2|avx512 forces one; forcing an ISA this CPU
// cannot run is an error, never a silent fallback.
#pragma once

#include "signcut/export.hpp"

#include <optional>
#include <string_view>

namespace signcut {

enum class Arch {
    scalar,  ///< portable C++, no SIMD assumptions
    avx2,    ///< AVX2 + FMA + BMI2 + POPCNT (x86-64-v3)
    avx512,  ///< AVX-512 F+BW+DQ+VL (x86-64-v4); VPOPCNTDQ only behind its own cpuid bit
};

/// "scalar", "avx2" or "avx512".
SIGNCUT_API std::string_view arch_name(Arch a) noexcept;
/// Parses a name as `arch_name` prints it; nullopt for anything else.
SIGNCUT_API std::optional<Arch> parse_arch(std::string_view name) noexcept;

/// True when this CPU and OS can run `a`.
SIGNCUT_API bool arch_supported(Arch a) noexcept;
/// The best ISA this CPU and OS can run.
SIGNCUT_API Arch best_arch() noexcept;
/// True when the CPU has AVX512-VPOPCNTDQ (used inside the avx512 kernels only).
SIGNCUT_API bool cpu_has_vpopcntdq() noexcept;

/// The ISA in use: SIGNCUT_ARCH if set, else `best_arch()`. Throws `Error`
/// (errc::unsupported) if SIGNCUT_ARCH names an ISA this CPU cannot run, or
/// errc::invalid_argument if it names none.
SIGNCUT_API Arch active_arch();
/// Overrides the ISA for the rest of the process (tests, benchmarks). Throws
/// `Error` if this CPU cannot run `a`. Not thread-safe: call it before
/// starting work.
SIGNCUT_API void set_active_arch(Arch a);

}  // namespace signcut
