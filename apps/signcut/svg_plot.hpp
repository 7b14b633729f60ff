// Rate–distortion curves as a standalone SVG: relative error (log scale)
// against bits per value (log2 scale), one line per method.
#pragma once

#include <string>
#include <vector>

namespace signcut::cli {

struct RatePoint {
    double bits_per_value = 0;
    double rel_error = 0;  ///< 0 is drawn at the axis floor and marked "exact"
};

struct RateCurve {
    std::string name;
    std::vector<RatePoint> points;  ///< drawn in order of bits per value
};

/// The whole SVG document. Points with non-finite or negative values are
/// left out; a curve with one point is drawn as a marker.
std::string rate_distortion_svg(const std::vector<RateCurve>& curves, const std::string& title);

}  // namespace signcut::cli
