#include "input.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "dataset_spec.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/image.hpp"
#include "signcut/metrics.hpp"

namespace signcut::cli {

InputRef resolve_input(const std::string& spec)
{
    InputRef ref;
    ref.spec = spec;
    if (is_image_path(spec)) {
        if (!std::filesystem::exists(spec)) throw Error(errc::io, fmt::format("{}: no such file", spec));
        ref.file = spec;
        ref.image = true;
        return ref;
    }
    const DatasetRef d = resolve_dataset(spec);
    ref.file = d.file;
    ref.dataset = d.dataset;
    return ref;
}

LoadedInput load_input(const InputRef& ref, std::uint64_t max_bytes, const Terminal& terminal)
{
    LoadedInput in;
    if (ref.image) {
        std::vector<std::string> warnings;
        ImageInfo info;
        in.data = read_image(ref.file, max_bytes, &warnings, &info);
        for (const auto& w : warnings) terminal.warn(w);
        in.image_bit_depth = info.bits_per_channel;
        in.original_dtype = info.bits_per_channel == 16 ? "uint16" : "uint8";
        return in;
    }
    in.data = read_dataset(ref.file, ref.dataset, max_bytes, &in.original_dtype);
    return in;
}

OutputRef parse_output(const std::string& spec)
{
    OutputRef out;
    if (is_image_path(spec)) {
        out.file = spec;
        out.image = true;
        return out;
    }
    // A name such as x.tif asks for an image signcut does not write: refuse
    // it rather than write an HDF5 file under that name.
    if (is_foreign_image_path(spec)) (void)image_output_format(spec);
    const auto colon = spec.rfind(":/");
    if (colon != std::string::npos && colon > 0) {
        out.file = spec.substr(0, colon);
        out.dataset = spec.substr(colon + 1);
        out.into_existing = true;
    } else {
        out.file = spec;
        out.dataset = "/data";
    }
    return out;
}

LoadedInput load_original(const InputRef& ref, const std::string& decomposition, const Shape& expected,
                          std::uint64_t max_bytes, const Terminal& terminal)
{
    LoadedInput in = load_input(ref, max_bytes, terminal);
    const Shape shape(in.data.shape().begin(), in.data.shape().end());
    if (shape != expected)
        throw Error(errc::bad_input, fmt::format("{} has shape {} but {} decomposes shape {}", ref.spec,
                                                 format_shape(shape), decomposition, format_shape(expected)));
    return in;
}

ImageWriteOptions image_write_options(const std::string& original_dtype, bool force, bool scale)
{
    ImageWriteOptions w;
    w.source_bits = original_dtype == "uint16" ? 16 : 8;
    w.source = original_dtype == "uint8" || original_dtype == "uint16" ? ImageSource::samples
               : original_dtype.starts_with("float")                    ? ImageSource::floating
                                                                        : ImageSource::integer;
    w.force = force;
    w.scale = scale;
    return w;
}

void write_image_output(const std::string& path, const Tensor& x, const ImageWriteOptions& options,
                        const Terminal& terminal)
{
    std::vector<std::string> warnings;
    write_image(path, x, options, &warnings);
    for (const auto& w : warnings) terminal.warn(w);
}

void check_image_output_for(const std::string& path, const std::string& input)
{
    (void)image_output_format(path);
    const ImageInfo info = inspect_image(input);
    // An image past the reader's pixel limit is refused by the reader, with
    // its own message, before any output size matters.
    if (std::uint64_t{info.height} * info.width > default_max_image_pixels) return;
    const Shape shape = info.channels >= 3 ? Shape{info.height, info.width, 3} : Shape{info.height, info.width};
    (void)check_image_output(path, shape);
}

double written_image_psnr_db(const std::string& path, const Tensor& original, int source_bits)
{
    ImageInfo info;
    Tensor stored = read_image(path, UINT64_MAX, nullptr, &info);
    if (source_bits == 16 && info.bits_per_channel == 8)
        for (float& v : stored) v *= 257.0f;
    return compare(std::span<const float>(original.data(), original.size()),
                   std::span<const float>(stored.data(), stored.size()))
        .psnr_db;
}

std::uint64_t write_reconstruction(const OutputRef& out, const Tensor& x, const std::string& dtype,
                                   const std::string& original_dtype, bool force, const Terminal& terminal, bool scale, std::span<const CarriedAttribute> attributes)
{
    const Shape shape(x.shape().begin(), x.shape().end());
    if (out.image) {
        if (!(x.dimension() == 2 || (x.dimension() == 3 && (x.shape()[2] == 3 || x.shape()[2] == 1))))
            throw Error(errc::bad_input, fmt::format("a {} tensor is not an image (H x W, H x W x 1 or H x W x 3)",
                                                     format_shape(shape)));
        write_image_output(out.file, x, image_write_options(original_dtype, force, scale), terminal);
    } else {
        write_dataset(out.file, out.dataset, x.data(), shape, dtype, force, out.into_existing, attributes);
    }
    return std::filesystem::file_size(out.file);
}

}  // namespace signcut::cli
