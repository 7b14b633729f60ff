// Shared helpers for the Boost.Test suites.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "signcut/arch.hpp"
#include "signcut/error.hpp"
#include "signcut/kernels.hpp"
#include "signcut/random.hpp"
#include "signcut/signs.hpp"

namespace signcut::testing {

/// A Boost.Test precondition: the case runs only where this CPU has the ISA,
/// and is reported as skipped elsewhere.
struct requires_arch {
    Arch arch;
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const
    {
        boost::test_tools::assertion_result r(arch_supported(arch));
        r.message() << "this CPU/OS cannot run " << arch_name(arch);
        return r;
    }
};

/// Defines NAME_scalar, NAME_avx2 and NAME_avx512, each calling
/// `void NAME(const signcut::kernels::Table&)` with that ISA's table.
#define SIGNCUT_TEST_EVERY_ARCH(NAME)                                                                  \
    static void NAME(const ::signcut::kernels::Table& k);                                             \
    BOOST_AUTO_TEST_CASE(NAME##_scalar) { NAME(::signcut::kernels::for_arch(::signcut::Arch::scalar)); } \
    BOOST_AUTO_TEST_CASE(NAME##_avx2,                                                                  \
                         *boost::unit_test::precondition(::signcut::testing::requires_arch{::signcut::Arch::avx2})) \
    {                                                                                                  \
        NAME(::signcut::kernels::for_arch(::signcut::Arch::avx2));                                     \
    }                                                                                                  \
    BOOST_AUTO_TEST_CASE(NAME##_avx512,                                                                \
                         *boost::unit_test::precondition(::signcut::testing::requires_arch{::signcut::Arch::avx512})) \
    {                                                                                                  \
        NAME(::signcut::kernels::for_arch(::signcut::Arch::avx512));                                   \
    }                                                                                                  \
    static void NAME(const ::signcut::kernels::Table& k)

/// Random signs of length d from a test-local stream.
inline SignVector random_signs(SplitMix64& g, std::size_t d)
{
    SignVector v(d);
    for (std::size_t w = 0; w < v.word_count(); ++w) v.data()[w] = g.next();
    if (d % 64 != 0 && d != 0) v.data()[v.word_count() - 1] &= tail_mask(d);
    return v;
}

/// N(0,1) floats.
inline std::vector<float> random_normal(SplitMix64& g, std::size_t n)
{
    std::vector<float> v(n);
    for (auto& x : v) x = static_cast<float>(g.normal());
    return v;
}

/// DESIGN §4's tolerance for a float sum of n terms whose magnitudes add to
/// `abs_sum`: 4·⌈log2 n⌉·ε_f32·Σ|terms|, and exact for n <= 1.
inline double sum_tolerance(std::size_t n, double abs_sum)
{
    if (n <= 1) return 0.0;
    return 4.0 * std::ceil(std::log2(static_cast<double>(n))) * 1.1920928955078125e-07 * abs_sum;
}

/// Checks that an expected signcut::Error is thrown, with the given code and
/// a message containing every fragment.
template <class F>
void check_error(F&& f, errc code, std::initializer_list<std::string> fragments)
{
    try {
        f();
    } catch (const Error& e) {
        const std::string message = e.what();
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(code), "code of: " << message);
        for (const std::string& fragment : fragments)
            BOOST_TEST(message.find(fragment) != std::string::npos, "'" << fragment << "' missing from: " << message);
        BOOST_TEST(message.find('\n') == std::string::npos, "multi-line message: " << message);
        return;
    }
    BOOST_ERROR("no signcut::Error thrown");
}

}  // namespace signcut::testing
