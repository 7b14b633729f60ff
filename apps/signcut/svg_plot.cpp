#include "svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

namespace signcut::cli {
namespace {

// Geometry of the drawing, in SVG user units.
constexpr double width = 780, height = 480;
constexpr double left = 80, right = 600, top = 46, bottom = 410;

// A palette that stays distinguishable for ten lines (Tableau 10).
constexpr const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string escape(const std::string& text)
{
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

bool drawable(const RatePoint& p)
{
    return std::isfinite(p.bits_per_value) && p.bits_per_value > 0 && std::isfinite(p.rel_error) && p.rel_error >= 0;
}

/// One marker shape per curve, so that curves meeting at a point stay visible.
std::string marker(std::size_t series, double x, double y, const char* color)
{
    switch (series % 4) {
    case 0: return fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="4" fill="{}"/>)", x, y, color);
    case 1: return fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="7" height="7" fill="{}"/>)", x - 3.5, y - 3.5, color);
    case 2:
        return fmt::format(R"(<path d="M{:.1f},{:.1f} L{:.1f},{:.1f} L{:.1f},{:.1f} Z" fill="{}"/>)", x, y - 5, x + 4.5,
                           y + 3.5, x - 4.5, y + 3.5, color);
    default:
        return fmt::format(R"(<path d="M{:.1f},{:.1f} L{:.1f},{:.1f} L{:.1f},{:.1f} L{:.1f},{:.1f} Z" fill="none" )"
                           R"(stroke="{}" stroke-width="1.6"/>)",
                           x, y - 5, x + 5, y, x, y + 5, x - 5, y, color);
    }
}

}  // namespace

std::string rate_distortion_svg(const std::vector<RateCurve>& curves, const std::string& title)
{
    // Axis ranges: whole powers of two in x, whole decades in y. The floor
    // sits a decade below the smallest positive error when one lies on a
    // decade, so that "exact" never coincides with a measured point.
    double min_bits = INFINITY, max_bits = 0, min_error = INFINITY, max_error = 0;
    for (const auto& c : curves)
        for (const auto& p : c.points) {
            if (!drawable(p)) continue;
            min_bits = std::min(min_bits, p.bits_per_value);
            max_bits = std::max(max_bits, p.bits_per_value);
            if (p.rel_error > 0) {
                min_error = std::min(min_error, p.rel_error);
                max_error = std::max(max_error, p.rel_error);
            }
        }
    if (!(max_bits > 0)) min_bits = max_bits = 1;
    if (!(max_error > 0)) min_error = max_error = 0.1;
    int x0 = static_cast<int>(std::floor(std::log2(min_bits))), x1 = static_cast<int>(std::ceil(std::log2(max_bits)));
    if (x1 <= x0) --x0, ++x1;
    int y0 = static_cast<int>(std::floor(std::log10(min_error))), y1 = static_cast<int>(std::ceil(std::log10(max_error)));
    if (std::pow(10.0, y0) >= min_error) --y0;
    if (y1 <= y0) ++y1;
    // A quarter octave of room on each side keeps markers off the frame.
    const double xa = x0 - 0.25, xb = x1 + 0.25;
    const auto px = [&](double bits) { return left + (std::log2(bits) - xa) / (xb - xa) * (right - left); };
    const auto py = [&](double error) {
        const double e = error > 0 ? std::log10(error) : y0;
        return bottom - (std::max(e, double(y0)) - y0) / (y1 - y0) * (bottom - top);
    };

    std::string svg = fmt::format(
        R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" viewBox="0 0 {0} {1}" )"
        R"(font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">)"
        "\n<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n",
        width, height);
    svg += fmt::format(R"(<text x="{:.1f}" y="24" text-anchor="middle" font-size="14">{}</text>)"
                       "\n",
                       (left + right) / 2, escape(title));
    // Grid, ticks and tick labels.
    for (int e = x0; e <= x1; ++e) {
        const double x = px(std::ldexp(1.0, e));
        svg += fmt::format(R"(<line x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}" stroke="#e0e0e0"/>)"
                           "\n"
                           R"(<text x="{0:.1f}" y="{3}" text-anchor="middle">{4:g}</text>)"
                           "\n",
                           x, top, bottom, bottom + 18, std::ldexp(1.0, e));
    }
    for (int e = y0; e <= y1; ++e) {
        const double y = py(std::pow(10.0, e));
        svg += fmt::format(R"(<line x1="{1}" y1="{0:.1f}" x2="{2}" y2="{0:.1f}" stroke="#e0e0e0"/>)"
                           "\n"
                           R"(<text x="{3}" y="{4:.1f}" text-anchor="end">{5}</text>)"
                           "\n",
                           y, left, right, left - 8, y + 4,
                           std::abs(e) <= 2 ? fmt::format("{:g}", std::pow(10.0, e)) : fmt::format("1e{}", e));
    }
    svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#333"/>)"
                       "\n",
                       left, top, right - left, bottom - top);
    svg += fmt::format(R"(<text x="{:.1f}" y="{}" text-anchor="middle">bits per value</text>)"
                       "\n",
                       (left + right) / 2, bottom + 42);
    svg += fmt::format(R"svg(<text x="22" y="{0:.1f}" text-anchor="middle" transform="rotate(-90 22 {0:.1f})">)svg"
                       "relative Frobenius error (0 drawn at the floor: exact)</text>\n",
                       (top + bottom) / 2);

    // Curves, then their markers, then the legend.
    std::set<long> exact_labels;
    for (std::size_t s = 0; s < curves.size(); ++s) {
        const char* color = colors[s % std::size(colors)];
        std::vector<RatePoint> points;
        for (const auto& p : curves[s].points)
            if (drawable(p)) points.push_back(p);
        std::sort(points.begin(), points.end(),
                  [](const RatePoint& a, const RatePoint& b) { return a.bits_per_value < b.bits_per_value; });
        if (points.size() > 1) {
            std::string path;
            for (const auto& p : points)
                path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", px(p.bits_per_value), py(p.rel_error));
            // Past the palette's ten colours, lines are dashed as well.
            svg += fmt::format(R"(<path d="{}" fill="none" stroke="{}" stroke-width="2"{}/>)"
                               "\n",
                               path, color, s >= std::size(colors) ? R"( stroke-dasharray="6 3")" : "");
        }
        for (const auto& p : points) {
            const double x = px(p.bits_per_value), y = py(p.rel_error);
            svg += marker(s, x, y, color) + "\n";
            if (p.rel_error == 0 && exact_labels.insert(std::lround(x)).second)
                svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle" font-style="italic">exact</text>)"
                                   "\n",
                                   x, y - 9);
        }
        const double ly = top + 12 + 20.0 * static_cast<double>(s);
        svg += fmt::format(R"(<line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="{}" stroke-width="2"/>)"
                           "\n",
                           right + 20, ly, right + 48, ly, color);
        svg += marker(s, right + 34, ly, color) + "\n";
        svg += fmt::format(R"(<text x="{}" y="{:.1f}">{}</text>)"
                           "\n",
                           right + 56, ly + 4, escape(curves[s].name));
    }
    svg += "</svg>\n";
    return svg;
}

}  // namespace signcut::cli
