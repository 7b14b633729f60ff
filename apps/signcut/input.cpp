#include "input.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/image.hpp"

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
    const auto colon = spec.rfind(":/");
    if (colon != std::string::npos && colon > 0) {
        out.file = spec.substr(0, colon);
        out.dataset = spec.substr(colon + 1);
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

std::uint64_t write_reconstruction(const OutputRef& out, const Tensor& x, const std::string& dtype,
                                   const std::string& original_dtype, bool force, const Terminal& terminal)
{
    const Shape shape(x.shape().begin(), x.shape().end());
    if (out.image) {
        if (!(x.dimension() == 2 || (x.dimension() == 3 && (x.shape()[2] == 3 || x.shape()[2] == 1))))
            throw Error(errc::bad_input, fmt::format("a {} tensor is not an image (H x W, H x W x 1 or H x W x 3)",
                                                     format_shape(shape)));
        std::vector<std::string> warnings;
        write_png(out.file, x, force, original_dtype == "uint16" ? 16 : 8, &warnings);
        for (const auto& w : warnings) terminal.warn(w);
    } else {
        write_dataset(out.file, out.dataset, x.data(), shape, dtype, force);
    }
    return std::filesystem::file_size(out.file);
}

}  // namespace signcut::cli
