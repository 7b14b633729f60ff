#include "output.hpp"

#include <sys/stat.h>

#include <unistd.h>

#include <filesystem>
#include <vector>

#include <fmt/format.h>

namespace signcut::cli {

Hdf5Target parse_hdf5_target(const std::string& spec)
{
    Hdf5Target t;
    t.spec = spec;
    const auto colon = spec.rfind(":/");
    if (colon != std::string::npos && colon > 0) {
        t.file = spec.substr(0, colon);
        t.object = spec.substr(colon + 1);
    } else {
        t.file = spec;
    }
    return t;
}

void check_hdf5_target(const Hdf5Target& target, std::span<const ObjectRef> inputs, bool force,
                       const Terminal& terminal)
{
    if (!target.into_existing()) {
        std::vector<std::string> files;
        for (const ObjectRef& in : inputs) files.push_back(in.file);
        check_output_path(target.file, files, force);
        return;
    }
    for (const std::string& w : check_output_object(target.file, target.object, inputs, force)) terminal.warn(w);
}

ObjectRef decomposition_object(const std::string& spec)
{
    // As the readers resolve it: an existing path is a file.
    struct stat st {};
    if (::stat(spec.c_str(), &st) == 0) return {spec, "/decomposition"};
    const Hdf5Target t = parse_hdf5_target(spec);
    if (t.object.empty()) return {spec, "/decomposition"};
    return {t.file, t.object};
}

namespace {

template <class Write>
std::uint64_t measured(Write write)
{
    const auto path = std::filesystem::temp_directory_path() / fmt::format("signcut-size-{}.h5", ::getpid());
    write(path.string());
    std::error_code ec;
    const std::uint64_t bytes = std::filesystem::file_size(path, ec);
    std::filesystem::remove(path, ec);
    return bytes;
}

}  // namespace

std::uint64_t own_file_bytes(const SignedCutDecomposition& d, const Provenance& prov)
{
    return measured([&](const std::string& path) { write_decomposition(path, d, prov, true); });
}

std::uint64_t own_file_bytes(const LplrDecomposition& d, const Provenance& prov)
{
    return measured([&](const std::string& path) { write_lplr(path, d, prov, true); });
}

}  // namespace signcut::cli
