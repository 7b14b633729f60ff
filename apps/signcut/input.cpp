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

}  // namespace signcut::cli
