// Image references of chat requests: `data:` URLs (base64, the way OpenAI clients send local images) decoded to
// their bytes, and `file://` URLs resolved to a path only inside the folders the server was allowed to read
// (--image-root; symlinks and ".." are resolved first, so nothing outside a root can be named).
// Thread safety: pure functions (resolve_file_url reads the file system).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.h"

namespace matrix::serve {

// Standard or URL-safe base64; whitespace is skipped, padding is optional. Error on any other character.
Result<std::string> base64_decode(std::string_view text);

struct DataUrl {
    std::string mime;   // "image/png"; "" when the URL names none
    std::string bytes;  // decoded
};
// "data:[<mime>][;base64],<data>"; only base64 payloads are accepted for images.
Result<DataUrl> parse_data_url(std::string_view url);

// "file:///abs/path" (percent-escapes decoded) -> the real path, if it lies under one of `roots`.
Result<std::string> resolve_file_url(std::string_view url, const std::vector<std::string>& roots);

}  // namespace matrix::serve
