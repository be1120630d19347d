// Images for chat endpoints: a local file becomes a `data:<mime>;base64,...` URL, with the MIME type taken from
// the file's magic bytes (PNG, JPEG, GIF, WebP, BMP), never from its extension: a .jpg holding PNG bytes is sent
// as image/png, and a file that is no known image is refused before any request is made. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/util/result.h"

namespace matrix::net {

// "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"; nullopt for anything else.
std::optional<std::string> sniff_image_mime(std::string_view bytes);

// Standard base64 (RFC 4648, with padding).
std::string base64_encode(std::string_view bytes);

// The data URL of a file's bytes. Errors: unreadable file, not a known image type.
Result<std::string> image_file_data_url(const std::string& path);

}  // namespace matrix::net
