#include "json.hpp"

namespace signcut::cli {

Json Json::string(std::string_view s)
{
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20)
                out += fmt::format("\\u{:04x}", c);
            else
                out += static_cast<char>(c);
        }
    }
    out += '"';
    return Json(out);
}

Json Json::array(const std::vector<Json>& items)
{
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        out += items[i].text();
    }
    out += "]";
    return Json(out);
}

JsonObject& JsonObject::add(std::string_view key, const Json& value)
{
    members_.emplace_back(Json::string(key).text(), value.text());
    return *this;
}

JsonObject& JsonObject::add(std::string_view key, const JsonObject& value) { return add(key, value.json()); }

Json JsonObject::json() const
{
    std::string out = "{";
    for (std::size_t i = 0; i < members_.size(); ++i) {
        if (i) out += ", ";
        out += members_[i].first + ": " + members_[i].second;
    }
    out += "}";
    return Json(out);
}

}  // namespace signcut::cli
