// Python literal evaluation over lexed tokens (see python_literal.h): a small recursive-descent reader that
// accepts exactly what ast.literal_eval would for the literal forms agents write, and refuses the rest so
// that the caller keeps the source text instead.
#include "core/conversation/python_literal.h"
#include "core/util/utf8.h"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>

namespace matrix::conversation::py {

namespace {

void append_utf8(std::string& out, uint32_t cp) { utf8::append(out, cp); }  // a lone surrogate becomes U+FFFD

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

struct Reader {
    std::string_view src;
    const std::vector<Token>& toks;
    size_t pos;
    size_t last;
    int depth = 0;  // nesting guard: hostile input must not exhaust the stack

    bool at_op(std::string_view op) const { return pos < last && toks[pos].is_op(src, op); }

    std::optional<nlohmann::json> number(bool negative) {
        const Token& t = toks[pos];
        std::string digits;
        for (char c : t.text(src))
            if (c != '_') digits += c;
        if (digits.empty() || digits.back() == 'j' || digits.back() == 'J') return std::nullopt;  // complex
        ++pos;
        int base = 10;
        size_t start = 0;
        if (digits.size() > 1 && digits[0] == '0' && std::isalpha(static_cast<unsigned char>(digits[1]))) {
            const char b = char(digits[1] | 0x20);
            base = b == 'x' ? 16 : b == 'o' ? 8 : b == 'b' ? 2 : 0;
            if (base == 0) return std::nullopt;
            start = 2;
        }
        const bool is_float = base == 10 && digits.find_first_of(".eE") != std::string::npos;
        if (is_float) {
            double v = 0;
            auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
            if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) return std::nullopt;
            return nlohmann::json(negative ? -v : v);
        }
        // Python 3 rejects leading zeros in decimal ints ("007"), except for zero itself.
        if (base == 10 && digits.size() > 1 && digits[0] == '0' && digits.find_first_not_of('0') != std::string::npos)
            return std::nullopt;
        uint64_t v = 0;
        auto r = std::from_chars(digits.data() + start, digits.data() + digits.size(), v, base);
        if (r.ec != std::errc() || r.ptr != digits.data() + digits.size() || start == digits.size()) return std::nullopt;
        if (!negative) {
            if (v <= uint64_t(std::numeric_limits<int64_t>::max())) return nlohmann::json(int64_t(v));
            return nlohmann::json(v);
        }
        if (v <= uint64_t(std::numeric_limits<int64_t>::max())) return nlohmann::json(-int64_t(v));
        if (v == uint64_t(std::numeric_limits<int64_t>::max()) + 1) return nlohmann::json(std::numeric_limits<int64_t>::min());
        return std::nullopt;
    }

    // A sequence of adjacent string tokens (implicit concatenation).
    std::optional<nlohmann::json> strings() {
        std::string value;
        while (pos < last && toks[pos].kind == TokenKind::String) {
            auto s = decode_string(src, toks[pos]);
            if (!s) return std::nullopt;
            value += *s;
            ++pos;
        }
        return nlohmann::json(std::move(value));
    }

    // Comma-separated values up to the closer; sets `had_comma` when at least one comma was seen.
    bool sequence(std::string_view closer, nlohmann::json& arr, bool& had_comma) {
        arr = nlohmann::json::array();
        had_comma = false;
        while (!at_op(closer)) {
            auto v = value();
            if (!v) return false;
            arr.push_back(std::move(*v));
            if (at_op(",")) {
                ++pos;
                had_comma = true;
                continue;
            }
            if (!at_op(closer)) return false;
        }
        ++pos;
        return true;
    }

    std::optional<nlohmann::json> value() {
        if (pos >= last || depth > 200) return std::nullopt;
        ++depth;
        auto v = value_inner();
        --depth;
        return v;
    }

    std::optional<nlohmann::json> value_inner() {
        const Token& t = toks[pos];
        if (t.kind == TokenKind::String) return strings();
        if (t.kind == TokenKind::Number) return number(false);
        if (t.kind == TokenKind::Name) {
            const auto n = t.text(src);
            ++pos;
            if (n == "True") return nlohmann::json(true);
            if (n == "False") return nlohmann::json(false);
            if (n == "None") return nlohmann::json(nullptr);
            return std::nullopt;
        }
        if (t.kind != TokenKind::Op) return std::nullopt;
        const auto op = t.text(src);
        if (op == "-" || op == "+") {
            bool negative = false;
            while (at_op("-") || at_op("+")) {
                if (at_op("-")) negative = !negative;
                ++pos;
            }
            if (pos < last && toks[pos].kind == TokenKind::Number) return number(negative);
            return std::nullopt;
        }
        if (op == "[") {
            ++pos;
            nlohmann::json arr;
            bool comma;
            if (!sequence("]", arr, comma)) return std::nullopt;
            return arr;
        }
        if (op == "(") {
            ++pos;
            nlohmann::json arr;
            bool comma;
            if (!sequence(")", arr, comma)) return std::nullopt;
            if (arr.size() == 1 && !comma) return arr[0];  // parenthesised value, not a tuple
            return arr;
        }
        if (op == "{") {
            ++pos;
            if (at_op("}")) {
                ++pos;
                return nlohmann::json::object();
            }
            auto first = value();
            if (!first) return std::nullopt;
            if (at_op(":")) {  // dict
                nlohmann::json obj = nlohmann::json::object();
                auto key = std::move(first);
                for (;;) {
                    if (!at_op(":") || !key->is_string()) return std::nullopt;
                    ++pos;
                    auto v = value();
                    if (!v) return std::nullopt;
                    obj[key->get<std::string>()] = std::move(*v);
                    if (at_op(",")) ++pos;
                    else if (!at_op("}")) return std::nullopt;
                    if (at_op("}")) {
                        ++pos;
                        return obj;
                    }
                    key = value();
                    if (!key) return std::nullopt;
                }
            }
            // set -> array
            nlohmann::json arr = nlohmann::json::array();
            arr.push_back(std::move(*first));
            for (;;) {
                if (at_op("}")) {
                    ++pos;
                    return arr;
                }
                if (!at_op(",")) return std::nullopt;
                ++pos;
                if (at_op("}")) continue;
                auto v = value();
                if (!v) return std::nullopt;
                arr.push_back(std::move(*v));
            }
        }
        return std::nullopt;
    }
};

}  // namespace

std::string valid_utf8(std::string_view s) { return utf8::sanitize(s); }

std::optional<std::string> decode_string(std::string_view src, const Token& t) {
    if (t.kind != TokenKind::String || t.bytes || t.fstring) return std::nullopt;
    const std::string_view body = src.substr(t.body_begin, t.body_end - t.body_begin);
    if (t.raw) return valid_utf8(body);
    std::string out;
    out.reserve(body.size());
    uint32_t pending_high = 0;  // a \uD8xx waiting for its low surrogate
    auto flush_high = [&] {
        if (pending_high) append_utf8(out, 0xFFFD);
        pending_high = 0;
    };
    size_t i = 0;
    while (i < body.size()) {
        const char c = body[i];
        if (c != '\\' || i + 1 >= body.size()) {
            flush_high();
            out += c;
            ++i;
            continue;
        }
        const char e = body[i + 1];
        i += 2;
        uint32_t cp = 0;
        int ndigits = 0;
        switch (e) {
            case '\n': flush_high(); continue;  // backslash-newline: line continuation inside the string
            case '\r':
                flush_high();
                if (i < body.size() && body[i] == '\n') ++i;
                continue;
            case '\\': flush_high(); out += '\\'; continue;
            case '\'': flush_high(); out += '\''; continue;
            case '"': flush_high(); out += '"'; continue;
            case 'a': flush_high(); out += '\a'; continue;
            case 'b': flush_high(); out += '\b'; continue;
            case 'f': flush_high(); out += '\f'; continue;
            case 'n': flush_high(); out += '\n'; continue;
            case 'r': flush_high(); out += '\r'; continue;
            case 't': flush_high(); out += '\t'; continue;
            case 'v': flush_high(); out += '\v'; continue;
            case 'N': return std::nullopt;
            case 'x': ndigits = 2; break;
            case 'u': ndigits = 4; break;
            case 'U': ndigits = 8; break;
            default:
                if (e >= '0' && e <= '7') {
                    cp = uint32_t(e - '0');
                    for (int k = 0; k < 2 && i < body.size() && body[i] >= '0' && body[i] <= '7'; ++k, ++i)
                        cp = cp * 8 + uint32_t(body[i] - '0');
                    flush_high();
                    append_utf8(out, cp);
                    continue;
                }
                flush_high();  // unknown escape: Python keeps the backslash
                out += '\\';
                out += e;
                continue;
        }
        if (i + size_t(ndigits) > body.size()) return std::nullopt;  // truncated \x / \u escape: SyntaxError
        for (int k = 0; k < ndigits; ++k) {
            const int h = hex_value(body[i + size_t(k)]);
            if (h < 0) return std::nullopt;
            cp = cp * 16 + uint32_t(h);
        }
        i += size_t(ndigits);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            flush_high();
            pending_high = cp;
            continue;
        }
        if (cp >= 0xDC00 && cp <= 0xDFFF && pending_high) {
            cp = 0x10000 + ((pending_high - 0xD800) << 10) + (cp - 0xDC00);
            pending_high = 0;
        } else {
            flush_high();
        }
        if (cp > 0x10FFFF) return std::nullopt;
        append_utf8(out, cp);
    }
    flush_high();
    return valid_utf8(out);
}

std::optional<nlohmann::json> literal_value(std::string_view src, const std::vector<Token>& tokens, size_t first,
                                            size_t last) {
    if (first >= last || last > tokens.size()) return std::nullopt;
    Reader r{src, tokens, first, last};
    auto v = r.value();
    if (!v || r.pos != last) return std::nullopt;
    return v;
}

}  // namespace matrix::conversation::py
