// Fuzz target: the image loader (PNG through libpng, JPEG through
// libjpeg-turbo, PPM and PGM through signcut's own parser), with signcut's
// glue around the decoders: its chunk-length checks, limits, error and
// warning handlers and long jumps.
//
// The input is the image file itself. It is read with inspect_image and then
// with read_image under a 1 Mi-pixel and 16 MiB limit. libpng and libjpeg
// are the system's shared libraries: coverage and the sanitizers reach
// signcut's side of them.
//
// What must hold, or the target aborts:
//  * only signcut::Error leaves the loader (anything else, a crash, a
//    sanitizer report or an allocation above -malloc_limit_mb is a bug);
//  * an accepted image has the shape its header announced and samples on
//    its scale: finite, from 0 to 255 (8-bit) or 65535 (16-bit).
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "signcut/error.hpp"
#include "signcut/image.hpp"

namespace {

constexpr std::uint64_t max_bytes = std::uint64_t{16} << 20;
constexpr std::uint64_t max_pixels = std::uint64_t{1} << 20;

std::string scratch_path;

[[noreturn]] void violated(const char* what)
{
    std::fprintf(stderr, "contract violated: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    const char* shm = "/dev/shm";
    const char* folder = ::access(shm, W_OK) == 0 ? shm : (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    // The pid keeps parallel runs apart; padded to a fixed width, so that
    // messages naming the file have the same length in every run and the
    // search follows the same path for the same seed.
    char pid[16];
    std::snprintf(pid, sizeof pid, "%010d", static_cast<int>(::getpid()));
    scratch_path = std::string(folder) + "/signcut-fuzz-image-" + pid + ".png";
    std::atexit([] { std::remove(scratch_path.c_str()); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::FILE* f = std::fopen(scratch_path.c_str(), "wb");
    if (f == nullptr || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0)
        violated("cannot write the scratch file");

    try {
        (void)signcut::inspect_image(scratch_path);
    } catch (const signcut::Error&) {
    }
    try {
        std::vector<std::string> warnings;
        signcut::ImageInfo info;
        const signcut::Tensor t = signcut::read_image(scratch_path, max_bytes, &warnings, &info, max_pixels);
        const std::size_t channels = info.channels >= 3 ? 3 : 1;
        const bool shape_ok = (channels == 3 && t.dimension() == 3 && t.shape()[2] == 3) ||
                              (channels == 1 && t.dimension() == 2);
        if (!shape_ok || t.shape()[0] != info.height || t.shape()[1] != info.width)
            violated("the tensor's shape is not the header's");
        if (info.width * info.height > max_pixels) violated("accepted more pixels than the limit");
        const float top = info.bits_per_channel == 16 ? 65535.0f : 255.0f;
        for (const float v : t)
            if (!(v >= 0.0f && v <= top)) violated("a sample is off the image's scale");
    } catch (const signcut::Error&) {
    }
    return 0;
}
