// Atomic outputs and the checks made before any work.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>

#include "io_test_support.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/image.hpp"

using namespace signcut;
using namespace signcut::testing;

namespace {

/// Root may write into read-only folders, so that check cannot be seen
/// failing there.
struct not_root {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const
    {
        boost::test_tools::assertion_result r(::geteuid() != 0);
        r.message() << "running as root, which can write into read-only folders";
        return r;
    }
};

std::string file_text(const std::string& path)
{
    const std::vector<unsigned char> b = read_bytes(path);
    return std::string(b.begin(), b.end());
}

mode_t process_umask()
{
    const mode_t m = ::umask(022);
    ::umask(m);
    return m;
}

/// The three writers, each producing `path`.
void write_each(const std::string& kind, const std::string& path, bool force)
{
    const std::vector<float> v{1, 2, 3, 4, 5, 6};
    if (kind == "dataset") write_dataset(path, "/data", v.data(), Shape{2, 3}, "float32", force);
    if (kind == "decomposition") write_decomposition(path, hand_made({4, 9}, 3, 2).decomposition, Provenance{}, force);
    if (kind == "png") write_png(path, v.data(), Shape{2, 3}, force);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(atomic_output)

BOOST_AUTO_TEST_CASE(success_leaves_only_the_output)
{
    for (const std::string kind : {"dataset", "decomposition", "png"}) {
        ScratchDir dir;
        const std::string path = dir.file("out.file");
        write_each(kind, path, false);
        BOOST_TEST(dir.entries() == std::vector<std::string>({"out.file"}), boost::test_tools::per_element());
        // New outputs get the permissions of any new file (0666 minus the
        // umask), not the 0600 of a temporary.
        struct stat st {};
        BOOST_TEST_REQUIRE(::stat(path.c_str(), &st) == 0);
        BOOST_TEST((st.st_mode & 0777) == (0666 & ~process_umask()));
    }
}

BOOST_AUTO_TEST_CASE(failure_midway_leaves_nothing)
{
    ScratchDir dir;
    // The NaN is found while the HDF5 file is being written, after the
    // temporary exists.
    std::vector<float> v(5000, 1.0f);
    v[4321] = std::nanf("");
    const std::string path = dir.file("out.h5");
    check_error([&] { write_dataset(path, "/data", v.data(), Shape{50, 100}, "uint16", false); }, errc::invalid_argument,
                {"NaN", "entry 4321"});
    BOOST_TEST(dir.entries().empty());

    // The same over an existing output with --force: the old file survives.
    write_text(path, "precious");
    check_error([&] { write_dataset(path, "/data", v.data(), Shape{50, 100}, "uint16", true); }, errc::invalid_argument,
                {"NaN"});
    BOOST_TEST(dir.entries() == std::vector<std::string>({"out.h5"}), boost::test_tools::per_element());
    BOOST_TEST(file_text(path) == "precious");
}

BOOST_AUTO_TEST_CASE(existing_output_needs_force)
{
    for (const std::string kind : {"dataset", "decomposition", "png"}) {
        BOOST_TEST_CONTEXT(kind)
        {
            ScratchDir dir;
            const std::string path = dir.file("out.file");
            write_text(path, "keep me");
            check_error([&] { write_each(kind, path, false); }, errc::io, {path, "exists; use --force to replace it"});
            BOOST_TEST(file_text(path) == "keep me");
            BOOST_TEST(dir.entries() == std::vector<std::string>({"out.file"}), boost::test_tools::per_element());

            write_each(kind, path, true);
            BOOST_TEST(file_text(path) != "keep me");
            BOOST_TEST(dir.entries() == std::vector<std::string>({"out.file"}), boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(replacing_keeps_other_names_of_the_old_file_intact)
{
    // The rename gives the output a new inode: a hard link to the old
    // output keeps the old contents instead of being overwritten in place.
    ScratchDir dir;
    const std::string path = dir.file("out.h5"), other = dir.file("other-name.h5");
    write_text(path, "old contents");
    BOOST_TEST_REQUIRE(::link(path.c_str(), other.c_str()) == 0);
    write_each("dataset", path, true);
    BOOST_TEST(file_text(other) == "old contents");
    BOOST_TEST(list_datasets(path) == std::vector<std::string>({"/data"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(check_output_path_accepts_new_and_forced_outputs)
{
    ScratchDir dir;
    const std::string input = dir.file("in.h5"), output = dir.file("out.h5");
    write_text(input, "input");
    const std::vector<std::string> inputs{input, dir.file("never-created.h5")};
    check_output_path(output, inputs, false);
    write_text(output, "old");
    check_error([&] { check_output_path(output, inputs, false); }, errc::io, {output, "exists; use --force"});
    check_output_path(output, inputs, true);
    // A bare file name lives in the current folder.
    const fs::path cwd = fs::current_path();
    fs::current_path(dir.path());
    BOOST_CHECK_NO_THROW(check_output_path("fresh.h5", {}, false));
    fs::current_path(cwd);
}

BOOST_AUTO_TEST_CASE(check_output_path_refuses_the_input_itself)
{
    ScratchDir dir;
    const std::string input = dir.file("in.h5");
    write_text(input, "input");
    const std::vector<std::string> inputs{dir.file("other.h5"), input};
    for (const bool force : {false, true}) {
        check_error([&] { check_output_path(input, inputs, force); }, errc::io, {input, "it is the input file"});
        // A hard link is the same inode under another name.
        const std::string hard = dir.file(force ? "hard-f.h5" : "hard.h5");
        BOOST_TEST_REQUIRE(::link(input.c_str(), hard.c_str()) == 0);
        check_error([&] { check_output_path(hard, inputs, force); }, errc::io, {hard, "it is the input file", input});
        const std::string soft = dir.file(force ? "soft-f.h5" : "soft.h5");
        BOOST_TEST_REQUIRE(::symlink(input.c_str(), soft.c_str()) == 0);
        check_error([&] { check_output_path(soft, inputs, force); }, errc::io, {soft, "it is the input file"});
        // The same file reached through another path.
        const std::string dotted = (dir.path() / "." / "in.h5").string();
        check_error([&] { check_output_path(dotted, inputs, force); }, errc::io, {"it is the input file"});
    }
    BOOST_TEST(file_text(input) == "input");
}

BOOST_AUTO_TEST_CASE(check_output_path_refuses_missing_folders_and_folders)
{
    ScratchDir dir;
    const std::string nowhere = dir.file("no-such-folder/out.h5");
    check_error([&] { check_output_path(nowhere, {}, true); }, errc::io, {nowhere, "no-such-folder", "does not exist"});
    const std::string sub = dir.file("sub");
    fs::create_directory(sub);
    check_error([&] { check_output_path(sub, {}, true); }, errc::io, {sub, "it is a folder"});
    const std::string not_a_folder = dir.file("plain");
    write_text(not_a_folder, "x");
    check_error([&] { check_output_path(not_a_folder + "/out.h5", {}, true); }, errc::io, {"is not a folder"});
    // The writers refuse a folder as output as well.
    const std::vector<float> v{1, 2};
    check_error([&] { write_dataset(sub, "/data", v.data(), Shape{2}, "float32", true); }, errc::io, {"it is a folder"});
}

BOOST_AUTO_TEST_CASE(check_output_path_refuses_read_only_folders, *boost::unit_test::precondition(not_root{}))
{
    ScratchDir dir;
    const std::string folder = dir.file("locked");
    fs::create_directory(folder);
    fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec);
    const std::string out = folder + "/out.h5";
    check_error([&] { check_output_path(out, {}, false); }, errc::io, {out, "is not writable"});
    const std::vector<float> v{1, 2};
    check_error([&] { write_dataset(out, "/data", v.data(), Shape{2}, "float32", false); }, errc::io,
                {"cannot create a temporary file", folder});
}

BOOST_AUTO_TEST_SUITE_END()
