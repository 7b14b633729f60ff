// The filter class as HDF5 calls it: refusals pushed on HDF5's error stack
// with the reason, a filter function that fails cleanly (returns 0, leaves
// the buffer) on any stream, and the parameters it records.
#include <boost/test/unit_test.hpp>

#include <hdf5.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "signcut/hdf5_filter.hpp"

namespace signcut::testing {
namespace {

/// Every message on HDF5's current error stack, joined.
std::string error_stack()
{
    std::string all;
    H5Ewalk2(
        H5E_DEFAULT, H5E_WALK_DOWNWARD,
        [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
            if (e->desc != nullptr) *static_cast<std::string*>(data) += std::string(e->desc) + "\n";
            return 0;
        },
        &all);
    return all;
}

std::string scratch_file()
{
    return (std::filesystem::temp_directory_path() / ("signcut-filter-" + std::to_string(::getpid()) + ".h5")).string();
}

const H5Z_class2_t& filter_class() { return *static_cast<const H5Z_class2_t*>(hdf5_filter_class()); }

}  // namespace

BOOST_AUTO_TEST_SUITE(hdf5_filter)

BOOST_AUTO_TEST_CASE(other_types_are_refused_naming_them)
{
    register_hdf5_filter();
    register_hdf5_filter();  // twice is once
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    const std::string path = scratch_file();
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    BOOST_REQUIRE(file >= 0);
    const hsize_t dims[2] = {20, 20}, chunk[2] = {10, 10};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    const std::vector<unsigned> p = hdf5_filter_parameters({});
    H5Pset_filter(dcpl, hdf5_filter_id, H5Z_FLAG_MANDATORY, p.size(), p.data());
    for (const auto& [type, said] : {std::pair{H5T_STD_I32LE, "32-bit integers"}, std::pair{H5T_IEEE_F32BE, "little-endian"}}) {
        H5Eclear2(H5E_DEFAULT);
        const hid_t d = H5Dcreate2(file, "x", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        BOOST_TEST(d < 0);
        const std::string stack = error_stack();
        BOOST_TEST(stack.find(said) != std::string::npos, stack);
    }
    // float32 and float64 are taken, and the parameters gain the chunk.
    for (const hid_t type : {H5T_IEEE_F32LE, H5T_IEEE_F64LE}) {
        const std::string name = type == H5T_IEEE_F32LE ? "f32" : "f64";
        const hid_t d = H5Dcreate2(file, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        BOOST_REQUIRE(d >= 0);
        const hid_t created = H5Dget_create_plist(d);
        unsigned flags = 0;
        std::size_t n = 32;
        unsigned values[32];
        BOOST_REQUIRE(H5Pget_filter_by_id2(created, hdf5_filter_id, &flags, &n, values, 0, nullptr, nullptr) >= 0);
        BOOST_TEST(n == p.size() + 2 + 2);
        BOOST_TEST(values[p.size()] == (type == H5T_IEEE_F64LE ? 1u : 0u));
        BOOST_TEST(values[p.size() + 1] == 2u);
        BOOST_TEST(values[p.size() + 2] == 10u);
        H5Pclose(created);
        H5Dclose(d);
    }
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(file);
    std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(datasets_round_trip_through_hdf5)
{
    // Written and read with HDF5's own calls, the filter registered in this
    // process: float32 and float64, edge chunks, a chunk of 1 value, and a
    // fill value where nothing was written.
    register_hdf5_filter();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    const std::string path = scratch_file();
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    BOOST_REQUIRE(file >= 0);
    const hsize_t dims[2] = {70, 50};
    std::vector<double> x(70 * 50);
    for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = std::sin(0.05 * double(i / 50)) + std::cos(0.07 * double(i % 50)) + 0.01 * double(i % 7);
    ChunkEncoding e;
    e.rule = {ChunkRule::Kind::bits_per_value, 4.0};
    const std::vector<unsigned> p = hdf5_filter_parameters(e);
    for (const hid_t type : {H5T_IEEE_F32LE, H5T_IEEE_F64LE})
        for (const auto& chunk : {std::array<hsize_t, 2>{32, 32}, std::array<hsize_t, 2>{70, 50}, std::array<hsize_t, 2>{1, 1}}) {
            const hid_t space = H5Screate_simple(2, dims, nullptr);
            const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
            H5Pset_chunk(dcpl, 2, chunk.data());
            const double fill = -5.0;
            H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &fill);
            H5Pset_filter(dcpl, hdf5_filter_id, H5Z_FLAG_MANDATORY, p.size(), p.data());
            const std::string name = std::to_string(type == H5T_IEEE_F64LE ? 64 : 32) + "-" + std::to_string(chunk[0]);
            const hid_t d = H5Dcreate2(file, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
            BOOST_REQUIRE(d >= 0);
            // The first 40 rows only: the chunks below them stay unwritten.
            const hsize_t start[2] = {0, 0}, count[2] = {40, 50};
            const hid_t part = H5Screate_simple(2, count, nullptr);
            H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
            BOOST_REQUIRE(H5Dwrite(d, H5T_NATIVE_DOUBLE, part, space, H5P_DEFAULT, x.data()) >= 0);
            std::vector<double> y(x.size());
            BOOST_REQUIRE(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, y.data()) >= 0);
            double e2 = 0, n2 = 0;
            for (std::size_t i = 0; i < 40 * 50; ++i) e2 += (x[i] - y[i]) * (x[i] - y[i]), n2 += x[i] * x[i];
            BOOST_TEST(std::sqrt(e2 / n2) < 0.1, name);
            // Chunk rows wholly below row 40 were never written: fill value.
            const std::size_t first_unwritten = chunk[0] == 1 ? 40 : chunk[0] == 32 ? 64 : 70;
            for (std::size_t i = first_unwritten * 50; i < y.size(); ++i) BOOST_TEST_REQUIRE(y[i] == fill, name);
            H5Sclose(part);
            H5Dclose(d);
            H5Pclose(dcpl);
            H5Sclose(space);
        }
    H5Fclose(file);
    std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(the_filter_function_fails_cleanly_on_any_stream)
{
    // Parameters as set_local leaves them: float32 chunks of 16x16.
    std::vector<unsigned> cd = hdf5_filter_parameters({});
    cd.insert(cd.end(), {0u, 2u, 16u, 16u});
    // Encode one chunk through the function, as HDF5 would.
    const std::size_t bytes = 16 * 16 * 4;
    void* buf = H5allocate_memory(bytes, false);
    auto* x = static_cast<float*>(buf);
    for (int i = 0; i < 256; ++i) x[i] = static_cast<float>(i % 17) - 8.0f;
    std::size_t buf_size = bytes;
    const std::size_t stored = filter_class().filter(0, cd.size(), cd.data(), bytes, &buf_size, &buf);
    BOOST_REQUIRE(stored > 0);
    std::vector<unsigned char> stream(static_cast<unsigned char*>(buf), static_cast<unsigned char*>(buf) + stored);
    H5free_memory(buf);

    for (std::size_t at = 0; at < stream.size(); at += 3) {
        std::vector<unsigned char> damaged = stream;
        damaged[at] ^= 0x21;
        void* in = H5allocate_memory(damaged.size(), false);
        std::memcpy(in, damaged.data(), damaged.size());
        void* before = in;
        std::size_t size = damaged.size();
        H5Eclear2(H5E_DEFAULT);
        BOOST_TEST(filter_class().filter(H5Z_FLAG_REVERSE, cd.size(), cd.data(), damaged.size(), &size, &in) == 0u);
        BOOST_TEST(in == before, "the buffer was replaced on failure");
        BOOST_TEST(error_stack().find("signcut filter") != std::string::npos);
        H5free_memory(in);
    }
    // The undamaged stream decodes to a full chunk.
    void* in = H5allocate_memory(stream.size(), false);
    std::memcpy(in, stream.data(), stream.size());
    std::size_t size = stream.size();
    BOOST_TEST(filter_class().filter(H5Z_FLAG_REVERSE, cd.size(), cd.data(), stream.size(), &size, &in) == bytes);
    H5free_memory(in);
    // Parameters that were never completed by set_local are an error too.
    const std::vector<unsigned> user = hdf5_filter_parameters({});
    in = H5allocate_memory(stream.size(), false);
    std::memcpy(in, stream.data(), stream.size());
    BOOST_TEST(filter_class().filter(H5Z_FLAG_REVERSE, user.size(), user.data(), stream.size(), &size, &in) == 0u);
    H5free_memory(in);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace signcut::testing
