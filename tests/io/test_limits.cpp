// Byte counts, memory limits and dtype names.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include "byte_count.hpp"
#include "io_test_support.hpp"
#include "signcut/hdf5.hpp"

using namespace signcut;
using namespace signcut::testing;
using signcut::cli::parse_bytes;  // the CLI's, tested here with the other limits

BOOST_AUTO_TEST_SUITE(limits)

BOOST_AUTO_TEST_CASE(parse_bytes_accepts_plain_and_suffixed_counts)
{
    BOOST_TEST(parse_bytes("1000000") == 1000000u);
    BOOST_TEST(parse_bytes("1") == 1u);
    BOOST_TEST(parse_bytes("100B") == 100u);
    BOOST_TEST(parse_bytes("4K") == 4096u);
    BOOST_TEST(parse_bytes("4k") == 4096u);
    BOOST_TEST(parse_bytes("512M") == 512ull << 20);
    BOOST_TEST(parse_bytes("512MB") == 512ull << 20);
    BOOST_TEST(parse_bytes("512MiB") == 512ull << 20);
    BOOST_TEST(parse_bytes("2G") == 2ull << 30);
    BOOST_TEST(parse_bytes("2gib") == 2ull << 30);
    BOOST_TEST(parse_bytes("1.5G") == 3ull << 29);
    BOOST_TEST(parse_bytes("0.5K") == 512u);
    BOOST_TEST(parse_bytes("3T") == 3ull << 40);
    BOOST_TEST(parse_bytes("18446744073709551615") == UINT64_MAX);
}

BOOST_AUTO_TEST_CASE(parse_bytes_refuses_garbage)
{
    for (const char* bad : {"", "G", "abc", "12X", "12 G", " 12", "12G ", "-5", "1.5", "1.G", "0", "0K", "2Gx",
                            "18446744073709551616", "16777216T", "1e9", "+3"}) {
        BOOST_TEST_CONTEXT("input '" << bad << "'")
        {
            check_error([&] { parse_bytes(bad); }, errc::invalid_argument, {"invalid byte count", std::string("'") + bad + "'"});
        }
    }
}

BOOST_AUTO_TEST_CASE(default_memory_limit_is_four_fifths_of_physical_memory)
{
    const std::uint64_t physical = static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                                   static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    const std::uint64_t limit = default_memory_limit();
    BOOST_TEST(limit <= physical);
    // 80 % up to the rounding of one division.
    BOOST_TEST(static_cast<double>(limit) == 0.8 * static_cast<double>(physical),
               boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(dtype_sizes)
{
    BOOST_TEST(dtype_size("float16") == 2u);
    BOOST_TEST(dtype_size("float32") == 4u);
    BOOST_TEST(dtype_size("float64") == 8u);
    BOOST_TEST(dtype_size("int8") == 1u);
    BOOST_TEST(dtype_size("uint16") == 2u);
    BOOST_TEST(dtype_size("int32") == 4u);
    BOOST_TEST(dtype_size("uint64") == 8u);
    check_error([] { dtype_size("float128"); }, errc::invalid_argument, {"float128"});
    check_error([] { dtype_size("bfloat16"); }, errc::invalid_argument, {"bfloat16"});
}

BOOST_AUTO_TEST_SUITE_END()
