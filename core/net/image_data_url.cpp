// Magic-byte sniffing, base64 and data URLs for images sent to chat endpoints (see image_data_url.h).
#include "core/net/image_data_url.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace matrix::net {

std::optional<std::string> sniff_image_mime(std::string_view b) {
    auto starts = [&](const char* magic, size_t n, size_t at = 0) {
        return b.size() >= at + n && std::memcmp(b.data() + at, magic, n) == 0;
    };
    if (starts("\x89PNG\r\n\x1a\n", 8)) return "image/png";
    if (starts("\xFF\xD8\xFF", 3)) return "image/jpeg";
    if (starts("GIF87a", 6) || starts("GIF89a", 6)) return "image/gif";
    if (starts("RIFF", 4) && starts("WEBP", 4, 8)) return "image/webp";
    if (starts("BM", 2) && b.size() >= 26) return "image/bmp";  // 14-byte file header + a DIB header size
    return std::nullopt;
}

std::string base64_encode(std::string_view bytes) {
    static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 | uint8_t(bytes[i + 2]);
        out += table[v >> 18 & 63];
        out += table[v >> 12 & 63];
        out += table[v >> 6 & 63];
        out += table[v & 63];
    }
    if (const size_t rest = bytes.size() - i; rest > 0) {
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
        if (rest == 2) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
        out += table[v >> 18 & 63];
        out += table[v >> 12 & 63];
        out += rest == 2 ? table[v >> 6 & 63] : '=';
        out += '=';
    }
    return out;
}

Result<std::string> image_file_data_url(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("cannot read image", path);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return make_error("cannot read image", path);
    const std::string bytes = ss.str();
    const auto mime = sniff_image_mime(bytes);
    if (!mime) return make_error("not a PNG, JPEG, GIF, WebP or BMP image (by its first bytes)", path);
    return "data:" + *mime + ";base64," + base64_encode(bytes);
}

}  // namespace matrix::net
