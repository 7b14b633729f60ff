// Random against warm starting signs on the bundled real data: the relative
// error at equal bits per value, and the dense passes per term each needs.
// This measurement decides StartSigns::automatic (see decompose.hpp).
// Usage: signcut-bench-starts [SHARED_DATA_DIR]  (default: the source tree's data/ only)
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "signcut/decompose.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/image.hpp"
#include "signcut/metrics.hpp"

using namespace signcut;

int main(int argc, char** argv)
{
    std::vector<std::string> files = {SIGNCUT_SOURCE_DIR "/data/skimage_chelsea.png",
                                      SIGNCUT_SOURCE_DIR "/data/skimage_camera.png",
                                      SIGNCUT_SOURCE_DIR "/data/topo_etopo20.h5"};
    if (argc > 1)
        for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(argv[1]) / "tensors"))
            files.push_back(e.path().string());
    if (argc > 1)
        for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(argv[1]) / "images"))
            files.push_back(e.path().string());
    fmt::print("{:<42} {:<14} {:>4}  {:>9} {:>6}  {:>9} {:>6}  {:>6}\n", "data", "shape", "bits", "random",
               "p/term", "warm", "p/term", "warm/random");
    for (const auto& f : files) {
        const Tensor x = is_image_path(f) ? read_image(f, std::uint64_t{1} << 32)
                                          : read_dataset(f, list_datasets(f).front(), std::uint64_t{1} << 32);
        const Shape shape(x.shape().begin(), x.shape().end());
        for (double bits : {0.5, 1.0, 2.0}) {
            double err[2], passes[2];
            for (int warm = 0; warm < 2; ++warm) {
                DecomposeOptions o;
                o.bits_per_value = bits;
                o.threads = 2;
                o.start = warm ? StartSigns::previous : StartSigns::random;
                o.restarts = 0;  // one start per term, so that the start is what is compared
                DecomposeReport r;
                o.blocks = BlockChoice::whole();
                const auto d = decompose(TensorView<float>{x.data(), shape}, o, &r);
                const Tensor y = d.reconstruct(2);
                err[warm] = compare(std::span<const float>(x.data(), x.size()),
                                    std::span<const float>(y.data(), y.size()))
                                .rel_fro_error;
                passes[warm] = r.dense_passes / double(std::max<std::size_t>(1, d.width()));
            }
            fmt::print("{:<42} {:<14} {:>4}  {:>9.5f} {:>6.2f}  {:>9.5f} {:>6.2f}  {:>6.3f}\n",
                       std::filesystem::path(f).filename().string(), format_shape(shape), bits, err[0], passes[0],
                       err[1], passes[1], err[1] / err[0]);
        }
    }
}
