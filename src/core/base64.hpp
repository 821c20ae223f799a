// Standard base64 (RFC 4648, with padding), as Standard Webhooks uses it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace orgsync::core {

std::string base64_encode(std::string_view bytes);

// nullopt when `text` is not padded base64 of the standard alphabet.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace orgsync::core
