// The strict, allocation-light JSON parser behind json_stream.h (parse_json_value, validate_json_value,
// validate_json_object_keys, json_value_end_within); the array reader that uses it is in json_stream.cpp.
// Hand-written rather than nlohmann's parser so that one pass both finds element boundaries with byte offsets
// and builds the element's DOM, with an ASCII fast path for the long strings (13 KB system prompts,
// observations) that dominate M-TRACE files.
#include "core/formats/json_stream.h"
#include "core/util/utf8.h"

#include <charconv>
#include <cstring>

namespace matrix::formats {

namespace {

constexpr int kMaxDepth = 512;

// 1 for bytes that end the plain-ASCII run inside a string: '"', '\\', control characters, non-ASCII.
struct StopTable {
    bool stop[256];
    constexpr StopTable() : stop() {
        for (int c = 0; c < 256; ++c) stop[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
    }
};
constexpr StopTable kStop;

class Parser {
public:
    Parser(std::string_view text, size_t pos, bool build_dom = true) : s(text.data()), n(text.size()), p(pos), dom(build_dom) {}

    bool value(nlohmann::json& out, int depth) {
        ws();
        if (p >= n) return fail("unexpected end of file, expected a value");
        switch (s[p]) {
            case '{': return object(out, depth);
            case '[': return array(out, depth);
            case '"': {
                std::string str;
                if (!string(str)) return false;
                if (dom) out = std::move(str);
                return true;
            }
            case 't': return literal("true", out, nlohmann::json(true));
            case 'f': return literal("false", out, nlohmann::json(false));
            case 'n': return literal("null", out, nlohmann::json(nullptr));
            default:
                if (s[p] == '-' || (s[p] >= '0' && s[p] <= '9')) return number(out);
                return fail(std::string("unexpected character ") + describe(s[p]) + ", expected a value");
        }
    }

    void ws() {
        while (p < n && (s[p] == ' ' || s[p] == '\n' || s[p] == '\r' || s[p] == '\t')) ++p;
    }

    const char* s;
    size_t n;
    size_t p;
    bool dom;  // false: validate only (no strings copied, no DOM kept)
    std::vector<std::string>* keys = nullptr;  // validating: collects the top-level object's member names
    std::string error;
    size_t error_pos = 0;

private:
    bool fail(std::string msg) {
        error = std::move(msg);
        error_pos = p;
        return false;
    }
    static std::string describe(char c) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
        char buf[16];
        std::snprintf(buf, sizeof buf, "0x%02x", u);
        return buf;
    }

    bool literal(const char* word, nlohmann::json& out, nlohmann::json v) {
        size_t len = std::strlen(word);
        if (p + len > n) {
            if (std::memcmp(s + p, word, n - p) == 0) {
                p = n;
                return fail("unexpected end of file inside a literal");
            }
        }
        if (p + len > n || std::memcmp(s + p, word, len) != 0)
            return fail(std::string("invalid literal, expected '") + word + "'");
        p += len;
        out = std::move(v);
        return true;
    }

    bool object(nlohmann::json& out, int depth) {
        if (depth >= kMaxDepth) return fail("nesting deeper than 512 levels");
        ++p;  // '{'
        out = nlohmann::json::object();
        auto& obj = out.get_ref<nlohmann::json::object_t&>();
        ws();
        if (p < n && s[p] == '}') {
            ++p;
            return true;
        }
        for (;;) {
            ws();
            if (p >= n) return fail("unexpected end of file inside an object");
            if (s[p] != '"') return fail(std::string("unexpected character ") + describe(s[p]) + ", expected a key string");
            std::string key;
            const bool keep_key = !dom && keys && depth == 0;
            if (keep_key) dom = true;  // this key only
            const bool key_ok = string(key);
            if (keep_key) dom = false;
            if (!key_ok) return false;
            if (keep_key) keys->push_back(std::move(key));
            ws();
            if (p >= n) return fail("unexpected end of file inside an object");
            if (s[p] != ':') return fail(std::string("unexpected character ") + describe(s[p]) + ", expected ':'");
            ++p;
            nlohmann::json v;
            if (!value(v, depth + 1)) return false;
            if (dom) obj[std::move(key)] = std::move(v);  // a repeated key keeps the last value (as nlohmann does)
            ws();
            if (p >= n) return fail("unexpected end of file inside an object");
            if (s[p] == ',') {
                ++p;
                continue;
            }
            if (s[p] == '}') {
                ++p;
                return true;
            }
            return fail(std::string("unexpected character ") + describe(s[p]) + ", expected ',' or '}'");
        }
    }

    bool array(nlohmann::json& out, int depth) {
        if (depth >= kMaxDepth) return fail("nesting deeper than 512 levels");
        ++p;  // '['
        out = nlohmann::json::array();
        auto& arr = out.get_ref<nlohmann::json::array_t&>();
        ws();
        if (p < n && s[p] == ']') {
            ++p;
            return true;
        }
        for (;;) {
            nlohmann::json v;
            if (!value(v, depth + 1)) return false;
            if (dom) arr.push_back(std::move(v));
            ws();
            if (p >= n) return fail("unexpected end of file inside an array");
            if (s[p] == ',') {
                ++p;
                continue;
            }
            if (s[p] == ']') {
                ++p;
                return true;
            }
            return fail(std::string("unexpected character ") + describe(s[p]) + ", expected ',' or ']'");
        }
    }

    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    bool hex4(unsigned& v) {
        if (p + 4 > n) {
            p = n;
            return fail("unexpected end of file inside a \\u escape");
        }
        v = 0;
        for (int i = 0; i < 4; ++i) {
            int h = hex(s[p + i]);
            if (h < 0) return fail("invalid \\u escape");
            v = v * 16 + unsigned(h);
        }
        p += 4;
        return true;
    }

    static void append_utf8(std::string& out, unsigned cp) { utf8::append(out, cp); }

    // Validates one UTF-8 sequence starting at s[p] (a byte >= 0x80) and advances past it.
    bool utf8() {
        const utf8::Decoded d = utf8::decode_at(std::string_view(s, n), p);
        if (d.valid) {
            p += d.len;
            return true;
        }
        const unsigned char c = static_cast<unsigned char>(s[p]);
        if (c < 0xC2 || c > 0xF4) return fail("invalid UTF-8 byte in string");
        if (p + utf8::sequence_length(c) > n) {
            p = n;
            return fail("unexpected end of file inside a string");
        }
        return fail("invalid UTF-8 sequence in string");
    }

    bool string(std::string& out) {
        ++p;  // opening quote
        size_t run = p;
        for (;;) {
            // Fast path: plain ASCII, four bytes per iteration.
            const unsigned char* u = reinterpret_cast<const unsigned char*>(s);
            while (p + 4 <= n && !(kStop.stop[u[p]] | kStop.stop[u[p + 1]] | kStop.stop[u[p + 2]] | kStop.stop[u[p + 3]]))
                p += 4;
            while (p < n && !kStop.stop[u[p]]) ++p;
            if (p >= n) return fail("unexpected end of file inside a string");
            unsigned char c = static_cast<unsigned char>(s[p]);
            if (c == '"') {
                if (dom) out.append(s + run, p - run);
                ++p;
                return true;
            }
            if (c >= 0x80) {
                if (!utf8()) return false;
                continue;
            }
            if (c < 0x20) return fail("control character in string (must be escaped)");
            // Backslash escape.
            if (dom) out.append(s + run, p - run);
            ++p;
            if (p >= n) return fail("unexpected end of file inside a string");
            char e = s[p++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned cp;
                    if (!hex4(cp)) return false;
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (p + 2 > n || s[p] != '\\' || s[p + 1] != 'u')
                            return fail("unpaired UTF-16 surrogate in \\u escape");
                        p += 2;
                        unsigned lo;
                        if (!hex4(lo)) return false;
                        if (lo < 0xDC00 || lo > 0xDFFF) return fail("unpaired UTF-16 surrogate in \\u escape");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        return fail("unpaired UTF-16 surrogate in \\u escape");
                    }
                    append_utf8(out, cp);
                    break;
                }
                default:
                    --p;
                    return fail(std::string("invalid escape \\") + describe(e));
            }
            if (!dom) out.clear();  // validating: escapes are not kept either
            run = p;
        }
    }

    bool number(nlohmann::json& out) {
        const size_t start = p;
        bool is_float = false;
        if (s[p] == '-') ++p;
        if (p >= n) return fail("unexpected end of file inside a number");
        if (s[p] == '0') {
            ++p;
        } else if (s[p] >= '1' && s[p] <= '9') {
            while (p < n && s[p] >= '0' && s[p] <= '9') ++p;
        } else {
            return fail("invalid number");
        }
        if (p < n && s[p] == '.') {
            is_float = true;
            ++p;
            if (p >= n || s[p] < '0' || s[p] > '9') return fail("invalid number: digit expected after '.'");
            while (p < n && s[p] >= '0' && s[p] <= '9') ++p;
        }
        if (p < n && (s[p] == 'e' || s[p] == 'E')) {
            is_float = true;
            ++p;
            if (p < n && (s[p] == '+' || s[p] == '-')) ++p;
            if (p >= n || s[p] < '0' || s[p] > '9') return fail("invalid number: digit expected in exponent");
            while (p < n && s[p] >= '0' && s[p] <= '9') ++p;
        }
        const char* b = s + start;
        const char* e = s + p;
        if (!is_float) {
            if (*b == '-') {
                int64_t v;
                auto r = std::from_chars(b, e, v);
                if (r.ec == std::errc() && r.ptr == e) {
                    out = v;
                    return true;
                }
            } else {
                uint64_t v;
                auto r = std::from_chars(b, e, v);
                if (r.ec == std::errc() && r.ptr == e) {
                    if (v <= uint64_t(INT64_MAX)) out = int64_t(v);
                    else out = v;
                    return true;
                }
            }
        }
        double d;
        auto r = std::from_chars(b, e, d);
        if (r.ptr != e && r.ec != std::errc::result_out_of_range) return fail("invalid number");
        if (r.ec == std::errc::result_out_of_range) return fail("number out of range");
        out = d;
        return true;
    }
};

}  // namespace

bool parse_json_value(std::string_view text, size_t& pos, nlohmann::json& out, std::string& error, size_t& error_pos) {
    Parser ps(text, pos);
    if (!ps.value(out, 0)) {
        error = ps.error;
        error_pos = ps.error_pos;
        return false;
    }
    pos = ps.p;
    return true;
}

bool validate_json_value(std::string_view text, size_t& pos, std::string& error, size_t& error_pos) {
    Parser ps(text, pos, /*build_dom=*/false);
    nlohmann::json unused;
    if (!ps.value(unused, 0)) {
        error = ps.error;
        error_pos = ps.error_pos;
        return false;
    }
    pos = ps.p;
    return true;
}

bool validate_json_object_keys(std::string_view text, size_t& pos, std::vector<std::string>& keys, std::string& error,
                               size_t& error_pos) {
    Parser ps(text, pos, /*build_dom=*/false);
    ps.keys = &keys;
    nlohmann::json unused;
    if (!ps.value(unused, 0)) {
        error = ps.error;
        error_pos = ps.error_pos;
        return false;
    }
    pos = ps.p;
    return true;
}

size_t json_value_end_within(std::string_view text, size_t start, size_t limit) {
    const size_t stop = limit > text.size() - std::min(start, text.size()) ? text.size() : start + limit;
    size_t i = start;
    while (i < stop && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')) ++i;
    if (i >= stop) return std::string_view::npos;
    const char first = text[i];
    if (first != '{' && first != '[' && first != '"') return i;  // a number or literal: the parser measures it
    int64_t depth = 0;
    for (; i < stop; ++i) {
        const char c = text[i];
        if (c == '"') {
            // To the closing quote with memchr (strings are most of a record): a quote is escaped when an odd
            // run of backslashes precedes it.
            size_t q = i + 1;
            for (;;) {
                const void* hit = q < stop ? std::memchr(text.data() + q, '"', stop - q) : nullptr;
                if (!hit) return std::string_view::npos;
                q = size_t(static_cast<const char*>(hit) - text.data());
                size_t backslashes = 0;
                while (q - backslashes > i + 1 && text[q - backslashes - 1] == '\\') ++backslashes;
                if (backslashes % 2 == 0) break;
                ++q;
            }
            i = q;
            if (depth == 0) return i + 1;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if ((c == '}' || c == ']') && --depth <= 0) {
            return i + 1;
        }
    }
    return std::string_view::npos;
}

}  // namespace matrix::formats
