// Run-time ISA detection and the SIGNCUT_ARCH switch.
#include "signcut/arch.hpp"

#include <cpuid.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>

#include <fmt/format.h>

#include "signcut/error.hpp"

namespace signcut {
namespace {

struct CpuFeatures {
    bool avx2 = false;
    bool avx512 = false;
    bool vpopcntdq = false;
};

// XCR0 tells which register states the OS saves on a context switch. cpuid
// reports what the silicon has; without the OS's consent (OSXSAVE + XCR0
// bits) the first ymm/zmm instruction would fault or corrupt state.
std::uint64_t read_xcr0() noexcept
{
    std::uint32_t eax = 0, edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<std::uint64_t>(edx) << 32) | eax;
}

CpuFeatures detect() noexcept
{
    CpuFeatures f;
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    const bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, popcnt = (c >> 23) & 1;
    if (!osxsave || !avx) return f;
    const std::uint64_t xcr0 = read_xcr0();
    const bool os_ymm = (xcr0 & 0x6) == 0x6;         // SSE + AVX state
    const bool os_zmm = (xcr0 & 0xe6) == 0xe6;       // + opmask, ZMM_Hi256, Hi16_ZMM
    unsigned max_leaf = __get_cpuid_max(0, nullptr);
    if (max_leaf < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    const bool avx2 = (b >> 5) & 1, bmi2 = (b >> 8) & 1;
    const bool avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1,
               avx512vl = (b >> 31) & 1;
    const bool vpopcntdq = (c >> 14) & 1;
    f.avx2 = os_ymm && avx2 && fma && bmi2 && popcnt;
    f.avx512 = f.avx2 && os_zmm && avx512f && avx512dq && avx512bw && avx512vl;
    f.vpopcntdq = f.avx512 && vpopcntdq;
    return f;
}

const CpuFeatures& features() noexcept
{
    static const CpuFeatures f = detect();
    return f;
}

std::atomic<int> forced{-1};  // -1: not decided yet
std::mutex decide_mutex;

}  // namespace

std::string_view arch_name(Arch a) noexcept
{
    switch (a) {
    case Arch::scalar: return "scalar";
    case Arch::avx2: return "avx2";
    case Arch::avx512: return "avx512";
    }
    return "unknown";
}

std::optional<Arch> parse_arch(std::string_view name) noexcept
{
    for (Arch a : {Arch::scalar, Arch::avx2, Arch::avx512})
        if (name == arch_name(a)) return a;
    return std::nullopt;
}

bool arch_supported(Arch a) noexcept
{
    switch (a) {
    case Arch::scalar: return true;
    case Arch::avx2: return features().avx2;
    case Arch::avx512: return features().avx512;
    }
    return false;
}

Arch best_arch() noexcept
{
    if (features().avx512) return Arch::avx512;
    if (features().avx2) return Arch::avx2;
    return Arch::scalar;
}

bool cpu_has_vpopcntdq() noexcept { return features().vpopcntdq; }

Arch active_arch()
{
    int v = forced.load(std::memory_order_acquire);
    if (v >= 0) return static_cast<Arch>(v);
    std::lock_guard lock(decide_mutex);
    v = forced.load(std::memory_order_relaxed);
    if (v >= 0) return static_cast<Arch>(v);
    Arch chosen = best_arch();
    if (const char* env = std::getenv("SIGNCUT_ARCH"); env != nullptr && *env != '\0') {
        auto parsed = parse_arch(env);
        if (!parsed)
            throw Error(errc::invalid_argument,
                        fmt::format("SIGNCUT_ARCH='{}' is not an ISA; use scalar, avx2 or avx512", env));
        if (!arch_supported(*parsed))
            throw Error(errc::unsupported,
                        fmt::format("SIGNCUT_ARCH={} but this CPU/OS cannot run it (best available: {})", env,
                                    arch_name(best_arch())));
        chosen = *parsed;
    }
    forced.store(static_cast<int>(chosen), std::memory_order_release);
    return chosen;
}

void set_active_arch(Arch a)
{
    if (!arch_supported(a))
        throw Error(errc::unsupported, fmt::format("cannot use {}: this CPU/OS does not support it (best available: {})",
                                                   arch_name(a), arch_name(best_arch())));
    forced.store(static_cast<int>(a), std::memory_order_release);
}

}  // namespace signcut
