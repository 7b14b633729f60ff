// The CLI's --json output: one value on stdout, through nlohmann-json.
// Numbers print in their shortest round-trip form, non-finite numbers as
// null, and strings as valid UTF-8 whatever bytes they came from (a file
// name, an HDF5 attribute): invalid sequences become U+FFFD.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace signcut::cli {

class Json {
public:
    static Json null() { return Json(nullptr); }
    static Json number(double v) { return Json(v); }  // NaN and ±Inf dump as null
    static Json integer(std::uint64_t v) { return Json(v); }
    static Json boolean(bool v) { return Json(v); }
    static Json string(std::string_view s) { return Json(std::string(s)); }
    static Json array(const std::vector<Json>& items);
    template <class T>
    static Json integers(const std::vector<T>& v)
    {
        nlohmann::ordered_json a = nlohmann::ordered_json::array();
        for (auto x : v) a.push_back(static_cast<std::uint64_t>(x));
        return Json(std::move(a));
    }
    static Json optional_number(std::optional<double> v) { return v ? number(*v) : null(); }

    /// The value as one line of JSON.
    std::string text() const;

private:
    friend class JsonObject;
    explicit Json(nlohmann::ordered_json v) : value_(std::move(v)) {}
    nlohmann::ordered_json value_;
};

/// An object whose keys keep their insertion order.
class JsonObject {
public:
    JsonObject& add(std::string_view key, const Json& value);
    JsonObject& add(std::string_view key, const JsonObject& value);
    Json json() const { return Json(members_); }

private:
    nlohmann::ordered_json members_ = nlohmann::ordered_json::object();
};

}  // namespace signcut::cli
