// signcut: images as tensors.
//
// An RGB image is an order-3 tensor H × W × 3 and a gray image an order-2
// tensor H × W, with float samples on the image's own scale: 0..255 for
// 8-bit images, 0..65535 for 16-bit ones. Alpha channels are dropped (with a
// warning). PNG is decoded with libpng, JPEG with libjpeg-turbo; binary and
// plain PPM and PGM (P6, P5, P3, P2) are parsed by signcut itself.
//
// Both libraries are held to strict reading. libpng checks the CRC of every
// chunk (ancillary ones too), takes at most 2^24 pixels a side, caches at
// most 128 ancillary chunks and allocates at most 8 MiB for one chunk, and
// its "benign" errors (pixel data beyond the image's rows, for one) refuse
// the file; signcut checks each chunk's length against the file's size
// before libpng reads its data. libjpeg's warnings refuse the file (a
// truncated or damaged JPEG is never filled in with grey), except for
// extraneous bytes between segments, an unknown JFIF version and an unknown
// Adobe transform; a progressive JPEG may hold at most 1000 scans, and
// libjpeg's whole-image buffers are held to the memory limit (see
// read_image).
//
// Writing (PNG, JPEG, PPM, PGM, chosen by the output's extension) and its
// sample-range rules are described above write_image below.
//
// Warnings (alpha dropped, samples rescaled, samples clamped) are handed back to the caller
// through the `warnings` parameter; the library never prints.
#pragma once

#include "signcut/export.hpp"

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
struct SIGNCUT_API ImageInfo {
    std::string format;         ///< "png", "jpeg", "ppm" or "pgm"
    std::size_t height = 0;
    std::size_t width = 0;
    int channels = 0;           ///< as stored: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
    int bits_per_channel = 8;   ///< 8 or 16
};

/// True if `path` ends in .png, .jpg, .jpeg, .ppm or .pgm (any case): how
/// the CLI tells images from HDF5 files. These are also the formats
/// write_image writes.
SIGNCUT_API bool is_image_path(std::string_view path);

/// Reads an image's header without decoding it. The format is recognised
/// from the file's first bytes, not its name. Throws Error (errc::io for a
/// missing or unreadable file, errc::limit for a PNG beyond libpng's size
/// limits, errc::bad_input for anything that is not a readable PNG, JPEG,
/// PPM or PGM, naming the file and the decoder's reason).
SIGNCUT_API ImageInfo inspect_image(const std::string& path);

/// Decodes an image into a tensor: H × W for gray (and gray+alpha) images,
/// H × W × 3 for RGB (and RGBA). Samples are floats on the image's scale;
/// PNM samples whose maxval is not 255 or 65535 are rescaled to 0..255 (maxval
/// below 256) or 0..65535, with a warning.
///
/// Before decoding, refuses (errc::limit, naming both numbers) an image with
/// more than `max_pixels` pixels, or one whose decoding needs more than
/// `max_bytes` (the tensor plus the decoder's buffers). While decoding a
/// JPEG, libjpeg's whole-image buffers (a progressive file's coefficients)
/// are held to what `max_bytes` leaves beside the tensor.
SIGNCUT_API Tensor read_image(const std::string& path, std::uint64_t max_bytes, std::vector<std::string>* warnings = nullptr,
                  ImageInfo* info = nullptr, std::uint64_t max_pixels = default_max_image_pixels);

// --- writing ------------------------------------------------------------------
//
// Formats, by the output's extension (any case):
//   .png          8-bit PNG, gray (H × W or H × W × 1) or RGB (H × W × 3), via
//                 libpng. A 16-bit source is scaled to 8 bits by 255/65535,
//                 with a warning.
//   .jpg, .jpeg   baseline JPEG via libjpeg-turbo, quality 95 with no chroma
//                 subsampling (4:4:4) and optimised Huffman tables: what a
//                 person who keeps a JPEG of a reconstruction wants to see is
//                 the decomposition's error, not the JPEG's. 8-bit; a 16-bit
//                 source is scaled as for PNG, with the same warning.
//   .ppm          binary PPM (P6), RGB only;  .pgm  binary PGM (P5), gray only.
//                 maxval 255, or 65535 for a 16-bit source (big-endian samples,
//                 as Netpbm says).
// Any other extension is refused (errc::invalid_argument), and so is a PPM
// of a gray tensor or a PGM of an RGB one (errc::bad_input, naming the
// extension that fits). Every write is atomic: a temporary file in the
// output's folder, renamed over the output once complete.
//
// Sample range. The data is on its source's scale: 0..255 (`source_bits` 8)
// or 0..65535 (16). Samples are rounded to the nearest integer (half away
// from zero); then
//   - NaN or ±Inf anywhere: refused (errc::bad_input), naming the sample.
//   - `scale`: min..max of the data is mapped linearly onto the output's
//     whole sample range (0..255, or 0..65535 for a 16-bit PPM/PGM), with a
//     warning "scaled MIN..MAX to 0..255". Constant data becomes 0.
//   - otherwise, samples outside the range are clamped into it, with a
//     warning that gives their count and the data's min and max, when they
//     are reconstruction overshoot rather than data on another scale:
//       * ImageSource::samples (an image, or a uint8 / uint16 dataset on the
//         scale of its bits): every sample of the original lay in the range,
//         so a sample outside it is reconstruction error (signed cuts and
//         low-rank terms ring at edges), and clamping only brings it nearer
//         to the original. Always clamped.
//       * any other source (float data, other integer types): clamped only
//         when no sample lies more than half the range outside it
//         (−127.5..382.5 for 8 bits) and at most 1 % of the samples lie more
//         than 1/16 of the range outside it (below −16 or above 271). The
//         reconstructions of the bundled photographs at 0.02 to 4 bits per
//         value (sct blocked and whole, lplr) reach at most 77 outside 0..255
//         with at most 0.23 % of their samples beyond 16 outside (an image
//         with saturated regions puts a few % of its samples just outside);
//         a field on its own scale (a topography in metres, −10000..8000;
//         temperatures in °C or K) fails one of the two bounds. Beyond them
//         the write is refused (errc::bad_input) with one line naming the
//         data's min and max and the sample range and suggesting --scale,
//         and nothing is written.
//       * ImageSource::floating data whose whole span is under 16 sample
//         steps (but not constant) is refused the same way: float data on a
//         unit scale (0..1) would round to one or two levels, a black image.

/// The image formats signcut writes.
enum class ImageFormat { png, jpeg, ppm, pgm };

/// "PNG", "JPEG", "PPM", "PGM".
SIGNCUT_API const char* image_format_name(ImageFormat format);

/// The format the extension of `path` names. Refuses any other extension
/// (errc::invalid_argument): "the output X must be a .png, .jpg, .jpeg, .ppm
/// or .pgm file", adding "(signcut does not write TIFF)" and the like for the
/// image formats of is_foreign_image_path.
SIGNCUT_API ImageFormat image_output_format(std::string_view path);

/// What write_image checks before it looks at the samples, for a caller that
/// wants to refuse early (before a decomposition): the extension (as
/// image_output_format), a shape of H × W, H × W × 1 or H × W × 3 within the
/// format's size limits (errc::invalid_argument), and a PPM of gray or a PGM
/// of RGB data (errc::bad_input: "cannot write x.ppm: a PPM holds RGB (HxWx3)
/// and the data is gray (4x5); name the output .pgm"). Returns the format.
SIGNCUT_API ImageFormat check_image_output(std::string_view path, std::span<const std::size_t> shape);

/// True if `path` ends in the extension of an image format that signcut
/// neither reads nor writes (.tif .tiff .bmp .gif .webp .avif .heic .jxl .jp2
/// .exr .tga .pbm .pnm .pam, any case): an output so named is an image the
/// user wanted, to be refused rather than written as HDF5.
SIGNCUT_API bool is_foreign_image_path(std::string_view path);

/// JPEG quality of write_image (libjpeg's 1..100 scale).
inline constexpr int jpeg_quality = 95;

/// Where the samples handed to write_image come from (see "Sample range").
enum class ImageSource {
    samples,   ///< data of the image's own sample type: an image, uint8 (or uint16 with source_bits 16)
    integer,   ///< other integer data
    floating,  ///< float data
};

struct SIGNCUT_API ImageWriteOptions {
    int source_bits = 8;                        ///< 8: samples 0..255; 16: 0..65535
    ImageSource source = ImageSource::samples;  ///< what the data is a reconstruction of
    bool scale = false;                         ///< map min..max onto the full sample range
    bool force = false;                         ///< replace an existing output
};

/// Writes `data` (shape H × W, H × W × 1 or H × W × 3, row-major) as the
/// image format `path`'s extension names, atomically, by the rules above.
/// Refuses an existing `path` unless `options.force` (errc::io). Warnings
/// (clamped samples, --scale's mapping, 16 bits written as 8) are appended to
/// `warnings`; the library never prints.
SIGNCUT_API void write_image(const std::string& path, const float* data, std::span<const std::size_t> shape,
                 const ImageWriteOptions& options, std::vector<std::string>* warnings = nullptr);

/// The same, for a tensor.
SIGNCUT_API void write_image(const std::string& path, const Tensor& image, const ImageWriteOptions& options,
                 std::vector<std::string>* warnings = nullptr);

/// write_image to PNG whatever `path`'s extension, for image data
/// (ImageSource::samples) of `source_bits` bits: kept for callers of the
/// first versions.
SIGNCUT_API void write_png(const std::string& path, const float* data, std::span<const std::size_t> shape, bool force,
               int source_bits = 8, std::vector<std::string>* warnings = nullptr);

/// The same, for a tensor.
SIGNCUT_API void write_png(const std::string& path, const Tensor& image, bool force, int source_bits = 8,
               std::vector<std::string>* warnings = nullptr);

}  // namespace signcut
