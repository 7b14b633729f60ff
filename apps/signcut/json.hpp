// A small JSON writer for the CLI's --json output: one value on stdout,
// numbers printed round-trip exact, non-finite numbers as null.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace signcut::cli {

class Json {
public:
    static Json null() { return Json("null"); }
    static Json number(double v)
    {
        if (!std::isfinite(v)) return null();
        return Json(fmt::format("{}", v));  // fmt's shortest round-trip form
    }
    static Json integer(std::uint64_t v) { return Json(fmt::format("{}", v)); }
    static Json boolean(bool v) { return Json(v ? "true" : "false"); }
    static Json string(std::string_view s);
    static Json array(const std::vector<Json>& items);
    template <class T>
    static Json integers(const std::vector<T>& v)
    {
        std::vector<Json> items;
        for (auto x : v) items.push_back(integer(static_cast<std::uint64_t>(x)));
        return array(items);
    }
    static Json optional_number(std::optional<double> v) { return v ? number(*v) : null(); }

    const std::string& text() const { return text_; }

private:
    friend class JsonObject;
    explicit Json(std::string text) : text_(std::move(text)) {}
    std::string text_;
};

/// An object whose keys keep their insertion order.
class JsonObject {
public:
    JsonObject& add(std::string_view key, const Json& value);
    JsonObject& add(std::string_view key, const JsonObject& value);
    Json json() const;

private:
    std::vector<std::pair<std::string, std::string>> members_;
};

}  // namespace signcut::cli
