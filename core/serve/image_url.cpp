// data: and file:// image URLs (see image_url.h).
#include "core/serve/image_url.h"

#include <climits>
#include <cstdlib>

namespace matrix::serve {

namespace {
int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

std::string real_path(const std::string& p) {
    char buf[PATH_MAX];
    if (!::realpath(p.c_str(), buf)) return {};
    return buf;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

Result<std::string> base64_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size() / 4 * 3);
    uint32_t acc = 0;
    int bits = 0;
    bool padding = false;
    for (char c : text) {
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c == '=') {
            padding = true;
            continue;
        }
        const int v = b64_value(c);
        if (v < 0 || padding) return make_error("invalid base64 data");
        acc = acc << 6 | uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += char((acc >> bits) & 0xFF);
        }
    }
    if (bits >= 6) return make_error("invalid base64 data (truncated)");
    return out;
}

Result<DataUrl> parse_data_url(std::string_view url) {
    if (url.substr(0, 5) != "data:") return make_error("not a data: URL");
    const size_t comma = url.find(',');
    if (comma == std::string_view::npos) return make_error("data: URL without a comma");
    std::string_view head = url.substr(5, comma - 5);
    DataUrl d;
    bool base64 = false;
    size_t start = 0;
    while (start <= head.size()) {
        size_t semi = head.find(';', start);
        if (semi == std::string_view::npos) semi = head.size();
        std::string_view item = head.substr(start, semi - start);
        if (start == 0) d.mime = std::string(item);
        else if (item == "base64") base64 = true;
        start = semi + 1;
    }
    if (!base64) return make_error("data: URL is not base64-encoded");
    auto bytes = base64_decode(url.substr(comma + 1));
    if (!bytes) return bytes.error();
    d.bytes = std::move(*bytes);
    return d;
}

Result<std::string> resolve_file_url(std::string_view url, const std::vector<std::string>& roots) {
    if (url.substr(0, 7) != "file://") return make_error("not a file:// URL");
    std::string_view rest = url.substr(7);
    if (rest.substr(0, 9) == "localhost") rest.remove_prefix(9);
    if (rest.empty() || rest[0] != '/') return make_error("file:// URL must name an absolute path on this host");
    std::string path;
    for (size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '%' && i + 2 < rest.size() && hex_value(rest[i + 1]) >= 0 && hex_value(rest[i + 2]) >= 0) {
            path += char(hex_value(rest[i + 1]) * 16 + hex_value(rest[i + 2]));
            i += 2;
        } else {
            path += rest[i];
        }
    }
    if (roots.empty()) return make_error("file:// images are not allowed (the server has no --image-root)");
    const std::string real = real_path(path);
    if (real.empty()) return make_error("cannot open image file " + path);
    for (const auto& r : roots) {
        std::string root = real_path(r);
        if (root.empty()) continue;
        if (root.back() != '/') root += '/';
        if (real.compare(0, root.size(), root) == 0) return real;
    }
    return make_error("image file " + path + " is outside the server's image roots");
}

}  // namespace matrix::serve
