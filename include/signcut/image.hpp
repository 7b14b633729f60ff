// signcut: images as tensors.
//
// An RGB image is an order-3 tensor H × W × 3 and a gray image an order-2
// tensor H × W, with float samples on the image's own scale: 0..255 for
// 8-bit images, 0..65535 for 16-bit ones. Alpha channels are dropped (with a
// warning). PNG and JPEG are decoded with stb_image; binary and plain PPM and
// PGM (P6, P5, P3, P2) are parsed by signcut itself, because stb_image 2.27
// reads 16-bit PNM samples in the wrong byte order and accepts truncated
// pixel data silently.
//
// Warnings (alpha dropped, samples rescaled) are handed back to the caller
// through the `warnings` parameter; the library never prints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signcut/tensor.hpp"

namespace signcut {

/// Default cap on the pixel count of an image read (2^28, e.g. 16384²),
/// applied from the header before anything is decoded.
inline constexpr std::uint64_t default_max_image_pixels = std::uint64_t{1} << 28;

/// What an image file holds, read from its header alone.
struct ImageInfo {
    std::string format;         ///< "png", "jpeg", "ppm" or "pgm"
    std::size_t height = 0;
    std::size_t width = 0;
    int channels = 0;           ///< as stored: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
    int bits_per_channel = 8;   ///< 8 or 16
};

/// True if `path` ends in .png, .jpg, .jpeg, .ppm or .pgm (any case): how
/// the CLI tells images from HDF5 files.
bool is_image_path(std::string_view path);

/// Reads an image's header without decoding it. The format is recognised
/// from the file's first bytes, not its name. Throws Error (errc::io for a
/// missing or unreadable file, errc::bad_input for anything that is not a
/// readable PNG, JPEG, PPM or PGM, naming the file and the decoder's reason).
ImageInfo inspect_image(const std::string& path);

/// Decodes an image into a tensor: H × W for gray (and gray+alpha) images,
/// H × W × 3 for RGB (and RGBA). Samples are floats on the image's scale;
/// PNM samples whose maxval is not 255 or 65535 are rescaled to 0..255 (maxval
/// below 256) or 0..65535, with a warning.
///
/// Before decoding, refuses (errc::limit, naming both numbers) an image with
/// more than `max_pixels` pixels, or one whose decoding needs more than
/// `max_bytes` (the tensor plus the decoder's buffers).
Tensor read_image(const std::string& path, std::uint64_t max_bytes, std::vector<std::string>* warnings = nullptr,
                  ImageInfo* info = nullptr, std::uint64_t max_pixels = default_max_image_pixels);

/// Writes an 8-bit PNG (gray for shape H × W or H × W × 1, RGB for H × W × 3),
/// atomically, refusing an existing `path` unless `force`. Samples are
/// rounded half away from zero and clamped to 0..255. With `source_bits` 16
/// the samples are first scaled by 255/65535 (PNG output is 8-bit), and a
/// warning says so. NaN samples are refused (errc::invalid_argument).
void write_png(const std::string& path, const float* data, std::span<const std::size_t> shape, bool force,
               int source_bits = 8, std::vector<std::string>* warnings = nullptr);

/// The same, for a tensor.
void write_png(const std::string& path, const Tensor& image, bool force, int source_bits = 8,
               std::vector<std::string>* warnings = nullptr);

}  // namespace signcut
