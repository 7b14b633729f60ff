#include "json.hpp"

namespace signcut::cli {

Json Json::array(const std::vector<Json>& items)
{
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const Json& item : items) a.push_back(item.value_);
    return Json(std::move(a));
}

std::string Json::text() const
{
    // One line; bytes that are not UTF-8 are replaced rather than thrown on.
    return value_.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

JsonObject& JsonObject::add(std::string_view key, const Json& value)
{
    // Keys are the CLI's own ASCII names; a repeated key keeps its first place.
    members_[std::string(key)] = value.value_;
    return *this;
}

JsonObject& JsonObject::add(std::string_view key, const JsonObject& value)
{
    members_[std::string(key)] = value.members_;
    return *this;
}

}  // namespace signcut::cli
