// Reading what the command line names: an HDF5 dataset or an image.
#pragma once

#include <cstdint>
#include <string>

#include "signcut/tensor.hpp"
#include "terminal.hpp"

namespace signcut::cli {

/// Where an input lives: the file, and for HDF5 the dataset.
struct InputRef {
    std::string spec;      ///< as given
    std::string file;
    std::string dataset;   ///< empty for images
    bool image = false;
};

/// Resolves "FILE.h5:/path", "FILE.h5" (one dataset) or an image name,
/// checking that it exists, without reading data.
InputRef resolve_input(const std::string& spec);

struct LoadedInput {
    Tensor data;
    std::string original_dtype;  ///< "uint8" for 8-bit images
    int image_bit_depth = 0;     ///< 8 or 16 for images, 0 for HDF5
};

/// Reads the data, refusing (before allocating) anything over `max_bytes`.
/// Warnings (alpha dropped, …) go to the terminal.
LoadedInput load_input(const InputRef& ref, std::uint64_t max_bytes, const Terminal& terminal);

/// Loads the original that `decomposition` (a file name, for the message)
/// describes, refusing it if its shape is not `expected`.
LoadedInput load_original(const InputRef& ref, const std::string& decomposition, const Shape& expected,
                          std::uint64_t max_bytes, const Terminal& terminal);

/// Where a decompression goes: an image, or "FILE.h5[:/dataset]" (default /data).
struct OutputRef {
    std::string file;
    std::string dataset;
    bool image = false;
};
OutputRef parse_output(const std::string& spec);

/// Writes a reconstruction where `out` says, atomically: a PNG (8-bit, or
/// 16-bit for uint16 originals; only H×W, H×W×1 or H×W×3 tensors) or an
/// HDF5 dataset in `dtype`. Returns the file's size.
std::uint64_t write_reconstruction(const OutputRef& out, const Tensor& x, const std::string& dtype,
                                   const std::string& original_dtype, bool force, const Terminal& terminal);

}  // namespace signcut::cli
