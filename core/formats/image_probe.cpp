// Image header parsing (see image_probe.h). Each format's layout is from its specification: PNG IHDR chunk,
// JPEG SOFn segment, GIF logical screen descriptor, BMP BITMAPINFOHEADER, WebP VP8/VP8L/VP8X chunks.
#include "core/formats/image_probe.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace matrix::formats {

namespace {
uint32_t be16(const unsigned char* p) { return uint32_t(p[0]) << 8 | p[1]; }
uint32_t be32(const unsigned char* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint32_t le16(const unsigned char* p) { return uint32_t(p[1]) << 8 | p[0]; }
uint32_t le24(const unsigned char* p) { return uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]; }
uint32_t le32(const unsigned char* p) { return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]; }

std::optional<ImageInfo> sized(const char* fmt, int64_t w, int64_t h) {
    if (w <= 0 || h <= 0 || w > 1000000 || h > 1000000) return std::nullopt;
    return ImageInfo{fmt, int(w), int(h)};
}

std::optional<ImageInfo> jpeg(const unsigned char* b, size_t n) {
    size_t p = 2;
    while (p + 4 <= n) {
        if (b[p] != 0xFF) return std::nullopt;
        unsigned char marker = b[p + 1];
        if (marker == 0xFF) {  // fill byte
            ++p;
            continue;
        }
        p += 2;
        if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
        if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // end / scan before any frame header
        if (p + 2 > n) return std::nullopt;
        uint32_t len = be16(b + p);
        if (len < 2) return std::nullopt;
        const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (sof) {
            if (p + 7 > n) return std::nullopt;
            return sized("jpeg", be16(b + p + 5), be16(b + p + 3));
        }
        p += len;
    }
    return std::nullopt;
}
}  // namespace

std::optional<ImageInfo> probe_image(std::string_view bytes) {
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
    const size_t n = bytes.size();
    if (n >= 24 && std::memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0 && std::memcmp(b + 12, "IHDR", 4) == 0)
        return sized("png", be32(b + 16), be32(b + 20));
    if (n >= 4 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return jpeg(b, n);
    if (n >= 10 && (std::memcmp(b, "GIF87a", 6) == 0 || std::memcmp(b, "GIF89a", 6) == 0))
        return sized("gif", le16(b + 6), le16(b + 8));
    if (n >= 26 && b[0] == 'B' && b[1] == 'M') {
        uint32_t header = le32(b + 14);
        if (header == 12) return sized("bmp", le16(b + 18), le16(b + 20));
        return sized("bmp", int32_t(le32(b + 18)), std::llabs(int64_t(int32_t(le32(b + 22)))));
    }
    if (n >= 30 && std::memcmp(b, "RIFF", 4) == 0 && std::memcmp(b + 8, "WEBP", 4) == 0) {
        if (std::memcmp(b + 12, "VP8 ", 4) == 0 && b[23] == 0x9D && b[24] == 0x01 && b[25] == 0x2A)
            return sized("webp", le16(b + 26) & 0x3FFF, le16(b + 28) & 0x3FFF);
        if (std::memcmp(b + 12, "VP8L", 4) == 0 && b[20] == 0x2F) {
            uint32_t v = le32(b + 21);
            return sized("webp", (v & 0x3FFF) + 1, ((v >> 14) & 0x3FFF) + 1);
        }
        if (std::memcmp(b + 12, "VP8X", 4) == 0) return sized("webp", le24(b + 24) + 1, le24(b + 27) + 1);
    }
    return std::nullopt;
}

}  // namespace matrix::formats
