// Reading what the command line names: an HDF5 dataset or an image.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "signcut/image.hpp"
#include "signcut/hdf5.hpp"
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
    /// "FILE.h5:/dataset" was given: the dataset goes into FILE.h5, which
    /// keeps its other objects if it exists. A bare "FILE.h5" is a new file.
    bool into_existing = false;
};
OutputRef parse_output(const std::string& spec);

/// Writes a reconstruction where `out` says, atomically: an HDF5 dataset in
/// `dtype`, or an image in the format its extension names (write_image in
/// signcut/image.hpp: PNG or JPEG 8-bit, PPM/PGM 8-bit or 16-bit for uint16
/// originals; only H×W, H×W×1 or H×W×3 tensors). An image's samples are on
/// the scale of `original_dtype` (0..65535 for uint16, else 0..255) and
/// checked against it as image_write_options says; `scale` (--scale) maps
/// min..max onto the whole sample range instead. Returns the file's size.
std::uint64_t write_reconstruction(const OutputRef& out, const Tensor& x, const std::string& dtype,
                                   const std::string& original_dtype, bool force, const Terminal& terminal,
                                   bool scale = false, std::span<const CarriedAttribute> attributes = {});

/// How an image output of data decomposed from `original_dtype` is written:
/// 16-bit samples for uint16, 8-bit otherwise; uint8 and uint16 data (and
/// images) are ImageSource::samples, float types ImageSource::floating,
/// other integer types ImageSource::integer.
ImageWriteOptions image_write_options(const std::string& original_dtype, bool force, bool scale);

/// Writes `x` as the image `path` names (write_image) and passes its
/// warnings to the terminal.
void write_image_output(const std::string& path, const Tensor& x, const ImageWriteOptions& options,
                        const Terminal& terminal);

/// For `signcut image`, before decomposing: refuses an output `path` whose
/// extension is not an image format signcut writes, or whose format cannot
/// hold the input image `input` (a gray image to .ppm, an RGB one to .pgm,
/// a JPEG wider than 65500), reading only the input's header.
void check_image_output_for(const std::string& path, const std::string& input);

/// The PSNR of what the image at `path` holds (read back: JPEG is lossy,
/// and every format rounds and clamps), against `original`, on the scale of
/// `source_bits` (an 8-bit file of a 16-bit source is scaled by 257).
double written_image_psnr_db(const std::string& path, const Tensor& original, int source_bits);

}  // namespace signcut::cli
