// bytes_to_unicode as in GPT-2's encoder.py / HF tokenizers' byte_level.rs: printable Latin-1 bytes map to
// themselves, the other 68 bytes to U+0100 + n in byte order.
#include "core/tokenizer/byte_level.h"

#include <array>

#include "core/tokenizer/unicode_normalize.h"

namespace matrix::tok {
namespace {

struct Tables {
    std::array<std::string, 256> byte_to_utf8;
    std::array<std::array<char, 2>, 256> utf8_bytes;  // the same, as 1 or 2 raw bytes
    std::array<uint8_t, 256> utf8_len;
    std::array<int16_t, 0x200> char_to_byte;  // code point < 0x200 -> byte, -1 if none
    Tables() {
        char_to_byte.fill(-1);
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char32_t cp = printable ? char32_t(b) : char32_t(256 + n++);
            utf8_append(byte_to_utf8[b], cp);
            utf8_len[b] = uint8_t(byte_to_utf8[b].size());  // always 1 or 2 (code points < U+0200)
            utf8_bytes[b] = {byte_to_utf8[b][0], utf8_len[b] > 1 ? byte_to_utf8[b][1] : char(0)};
            char_to_byte[cp] = int16_t(b);
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

}  // namespace

std::string byte_level_encode(std::string_view bytes) {
    const Tables& t = tables();
    std::string out(bytes.size() * 2, '\0');
    size_t n = 0;
    for (unsigned char b : bytes) {
        out[n] = t.utf8_bytes[b][0];
        out[n + 1] = t.utf8_bytes[b][1];
        n += t.utf8_len[b];
    }
    out.resize(n);
    return out;
}

bool byte_level_decode_append(std::string_view token, std::string& out) {
    const Tables& t = tables();
    size_t start = out.size();
    for (char32_t cp : utf8_decode(token)) {
        if (cp >= 0x200 || t.char_to_byte[cp] < 0) {
            out.resize(start);
            return false;
        }
        out.push_back(char(t.char_to_byte[cp]));
    }
    return true;
}

}  // namespace matrix::tok
