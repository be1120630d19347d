// Python 3 string/number semantics for the benchmark scorers (see py_compat.h).
#include "core/eval/py_compat.h"
#include "core/util/utf8.h"

#include <pcre2.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <clocale>
#include <cmath>
#include <cwctype>
#include <limits>
#include <locale.h>
#include <memory>

namespace matrix::eval::py {

std::u32string decode_utf8(std::string_view s) { return utf8::decode(s); }

std::string encode_utf8(std::u32string_view s) { return utf8::encode(s); }

std::string sanitize_utf8(std::string_view s) { return utf8::sanitize(s); }

bool is_space(char32_t c) {
    // Python 3.11 str.isspace() (bidi WS/B/S or category Zs); generated from unicodedata.
    if (c <= 0x20) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
    switch (c) {
        case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
            return true;
        default:
            return c >= 0x2000 && c <= 0x200A;
    }
}

namespace {

// A C.UTF-8 locale object for towlower_l/iswalpha_l; created once, never freed (process lifetime).
locale_t utf8_locale() {
    static locale_t loc = [] {
        locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t(0));
        if (!l) l = newlocale(LC_CTYPE_MASK, "C.utf8", locale_t(0));
        return l;
    }();
    return loc;
}

char32_t simple_lower(char32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    locale_t loc = utf8_locale();
    if (!loc) return c;
    return static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), loc));
}

bool is_cased_letter(char32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    locale_t loc = utf8_locale();
    return loc && (iswupper_l(wint_t(c), loc) || iswlower_l(wint_t(c), loc));
}

bool is_case_ignorable(char32_t c) {
    // The common case-ignorable characters for the final-sigma context: apostrophes, period, combining marks.
    return c == '\'' || c == '.' || c == ':' || c == 0x2019 || c == 0xB7 || (c >= 0x300 && c <= 0x36F);
}

}  // namespace

std::string lower(std::string_view s) {
    const std::u32string u = decode_utf8(s);
    std::u32string out;
    out.reserve(u.size());
    for (size_t i = 0; i < u.size(); ++i) {
        const char32_t c = u[i];
        if (c == 0x130) {  // LATIN CAPITAL LETTER I WITH DOT ABOVE: full mapping "i" + COMBINING DOT ABOVE
            out.push_back('i');
            out.push_back(0x307);
            continue;
        }
        if (c == 0x3A3) {  // GREEK CAPITAL SIGMA: final form when after a cased letter and not before one
            bool before = false, after = false;
            for (size_t j = i; j-- > 0;) {
                if (is_case_ignorable(u[j])) continue;
                before = is_cased_letter(u[j]);
                break;
            }
            for (size_t j = i + 1; j < u.size(); ++j) {
                if (is_case_ignorable(u[j])) continue;
                after = is_cased_letter(u[j]);
                break;
            }
            out.push_back(before && !after ? char32_t(0x3C2) : char32_t(0x3C3));
            continue;
        }
        out.push_back(simple_lower(c));
    }
    return encode_utf8(out);
}

std::string strip(std::string_view s) {
    const std::u32string u = decode_utf8(s);
    size_t b = 0, e = u.size();
    while (b < e && is_space(u[b])) ++b;
    while (e > b && is_space(u[e - 1])) --e;
    return encode_utf8(std::u32string_view(u).substr(b, e - b));
}

namespace {

// Zero code points of every Unicode Nd block (Python 3.11 unicodedata); each block holds 0-9 contiguously.
constexpr std::array<char32_t, 66> kDigitZeros = {
    0x30,    0x660,   0x6f0,   0x7c0,   0x966,   0x9e6,   0xa66,   0xae6,   0xb66,   0xbe6,   0xc66,
    0xce6,   0xd66,   0xde6,   0xe50,   0xed0,   0xf20,   0x1040,  0x1090,  0x17e0,  0x1810,  0x1946,
    0x19d0,  0x1a80,  0x1a90,  0x1b50,  0x1bb0,  0x1c40,  0x1c50,  0xa620,  0xa8d0,  0xa900,  0xa9d0,
    0xa9f0,  0xaa50,  0xabf0,  0xff10,  0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0,
    0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60,
    0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0};

int decimal_value(char32_t c) {
    for (char32_t z : kDigitZeros) {
        if (c >= z && c <= z + 9) return int(c - z);
    }
    return -1;
}

bool iequals_ascii(std::u32string_view a, const char* b) {
    size_t i = 0;
    for (; b[i]; ++i) {
        if (i >= a.size()) return false;
        char32_t c = a[i];
        if (c >= 'A' && c <= 'Z') c += 32;
        if (c != char32_t(b[i])) return false;
    }
    return i == a.size();
}

}  // namespace

std::optional<double> to_float(std::string_view text) {
    std::u32string u = decode_utf8(text);
    size_t b = 0, e = u.size();
    while (b < e && is_space(u[b])) ++b;
    while (e > b && is_space(u[e - 1])) --e;
    std::u32string_view s(u.data() + b, e - b);
    if (s.empty()) return std::nullopt;

    // Python maps Unicode digits to ASCII and whitespace is stripped; then the ASCII grammar applies.
    std::string ascii;
    ascii.reserve(s.size());
    for (char32_t c : s) {
        const int d = decimal_value(c);
        if (d >= 0) ascii.push_back(char('0' + d));
        else if (c < 0x80) ascii.push_back(char(c));
        else return std::nullopt;
    }

    size_t i = 0;
    bool negative = false;
    if (ascii[i] == '+' || ascii[i] == '-') negative = ascii[i++] == '-';
    std::u32string_view rest = s.substr(i);
    if (iequals_ascii(rest, "inf") || iequals_ascii(rest, "infinity")) {
        return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    }
    if (iequals_ascii(rest, "nan")) return std::numeric_limits<double>::quiet_NaN();

    // digitpart := digit (["_"] digit)* ; number := digitpart ["." [digitpart]] | "." digitpart ; [exponent]
    std::string clean;
    if (negative) clean.push_back('-');
    auto read_digits = [&](bool& any) {
        any = false;
        while (i < ascii.size()) {
            const char c = ascii[i];
            if (c >= '0' && c <= '9') {
                clean.push_back(c);
                any = true;
                ++i;
            } else if (c == '_' && any && i + 1 < ascii.size() && ascii[i + 1] >= '0' && ascii[i + 1] <= '9') {
                ++i;
            } else {
                break;
            }
        }
    };
    bool int_digits = false, frac_digits = false;
    read_digits(int_digits);
    if (i < ascii.size() && ascii[i] == '.') {
        clean.push_back('.');
        ++i;
        read_digits(frac_digits);
    }
    if (!int_digits && !frac_digits) return std::nullopt;
    if (i < ascii.size() && (ascii[i] == 'e' || ascii[i] == 'E')) {
        clean.push_back('e');
        ++i;
        if (i < ascii.size() && (ascii[i] == '+' || ascii[i] == '-')) clean.push_back(ascii[i++]);
        bool exp_digits = false;
        read_digits(exp_digits);
        if (!exp_digits) return std::nullopt;
    }
    if (i != ascii.size()) return std::nullopt;

    double v = 0;
    const auto r = std::from_chars(clean.data(), clean.data() + clean.size(), v);
    if (r.ec == std::errc::result_out_of_range) {
        // Python gives inf for overflow and 0.0 for underflow (correctly rounded); from_chars reports range.
        const bool big = clean.find('e') != std::string::npos && clean[clean.find('e') + 1] != '-';
        const double mag = big ? std::numeric_limits<double>::infinity() : 0.0;
        return negative ? -mag : mag;
    }
    if (r.ec != std::errc() || r.ptr != clean.data() + clean.size()) return std::nullopt;
    return v;
}

std::string regex_escape(std::string_view s) {
    // Python 3.7+: re.escape escapes exactly these; each is literal in PCRE2 after a backslash too.
    static constexpr std::string_view kSpecial = "()[]{}?*+-|^$\\.&~# \t\n\r\v\f";
    std::string out;
    out.reserve(s.size() * 2);
    for (char c : s) {
        if (kSpecial.find(c) != std::string_view::npos) out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

std::optional<bool> search_ignorecase(const std::string& pattern, std::string_view text) {
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    // Python's IGNORECASE compares simple lowercase mappings; PCRE2 uses case folding. They differ for
    // U+0130 (lower() = 'i', but no simple case fold), so it is mapped to 'i' on both sides first.
    auto dotted_i = [](std::string s) {
        for (size_t p = s.find("\xC4\xB0"); p != std::string::npos; p = s.find("\xC4\xB0", p)) s.replace(p, 2, "i");
        return s;
    };
    const std::string pat = dotted_i(sanitize_utf8(pattern));
    std::unique_ptr<pcre2_code, decltype(&pcre2_code_free)> code(
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pat.data()), pat.size(),
                      PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &err, &err_offset, nullptr),
        &pcre2_code_free);
    if (!code) return std::nullopt;
    std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
        pcre2_match_data_create_from_pattern(code.get(), nullptr), &pcre2_match_data_free);
    const std::string subject = dotted_i(sanitize_utf8(text));
    const int rc = pcre2_match(code.get(), reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                               md.get(), nullptr);
    return rc >= 0;
}

bool json_equal(const nlohmann::json& a, const nlohmann::json& b) {
    using nlohmann::json;
    auto numeric = [](const json& v) { return v.is_number() || v.is_boolean(); };
    if (numeric(a) && numeric(b)) {
        auto as_double = [](const json& v) -> double {
            if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
            if (v.is_number_integer() && !v.is_number_unsigned()) return double(v.get<int64_t>());
            if (v.is_number_unsigned()) return double(v.get<uint64_t>());
            return v.get<double>();
        };
        // Python compares int with int exactly and int with float by value; equal doubles suffice here.
        if (a.is_number_integer() && b.is_number_integer()) return a == b;
        return as_double(a) == as_double(b);
    }
    if (a.type() != b.type()) return false;
    if (a.is_array()) {
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i) {
            if (!json_equal(a[i], b[i])) return false;
        }
        return true;
    }
    if (a.is_object()) {
        if (a.size() != b.size()) return false;
        for (auto it = a.begin(); it != a.end(); ++it) {
            auto jt = b.find(it.key());
            if (jt == b.end() || !json_equal(it.value(), *jt)) return false;
        }
        return true;
    }
    return a == b;
}

namespace {

std::string float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
    // Python repr: shortest round-trip digits; scientific when exponent < -4 or >= 16.
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, r.ptr);
    const size_t epos = sci.find('e');
    std::string mant = sci.substr(0, epos);
    const int exp = std::stoi(sci.substr(epos + 1));
    bool neg = false;
    if (!mant.empty() && mant[0] == '-') {
        neg = true;
        mant.erase(0, 1);
    }
    std::string digits;
    for (char c : mant) {
        if (c != '.') digits.push_back(c);
    }
    std::string out;
    if (exp < -4 || exp >= 16) {
        out = digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        char eb[16];
        std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
        out += eb;
    } else if (exp < 0) {
        out = "0." + std::string(size_t(-exp - 1), '0') + digits;
    } else {
        if (int(digits.size()) <= exp + 1) {
            out = digits + std::string(size_t(exp + 1 - int(digits.size())), '0') + ".0";
        } else {
            out = digits.substr(0, size_t(exp + 1)) + "." + digits.substr(size_t(exp + 1));
        }
    }
    return neg ? "-" + out : out;
}

std::string str_repr(const std::string& s) {
    const bool use_double = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
    const char q = use_double ? '"' : '\'';
    std::string out(1, q);
    for (char c : s) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c == q) {
                    out.push_back('\\');
                    out.push_back(c);
                } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\x%02x", static_cast<unsigned char>(c));
                    out += b;
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back(q);
    return out;
}

std::string repr_of(const nlohmann::json& v) {
    if (v.is_string()) return str_repr(v.get<std::string>());
    return str_of(v);
}

}  // namespace

std::string str_of(const nlohmann::json& v) {
    switch (v.type()) {
        case nlohmann::json::value_t::null: return "None";
        case nlohmann::json::value_t::boolean: return v.get<bool>() ? "True" : "False";
        case nlohmann::json::value_t::string: return v.get<std::string>();
        case nlohmann::json::value_t::number_integer: return std::to_string(v.get<int64_t>());
        case nlohmann::json::value_t::number_unsigned: return std::to_string(v.get<uint64_t>());
        case nlohmann::json::value_t::number_float: return float_repr(v.get<double>());
        case nlohmann::json::value_t::array: {
            std::string out = "[";
            for (size_t i = 0; i < v.size(); ++i) {
                if (i) out += ", ";
                out += repr_of(v[i]);
            }
            return out + "]";
        }
        case nlohmann::json::value_t::object: {
            std::string out = "{";
            bool first = true;
            for (auto it = v.begin(); it != v.end(); ++it) {
                if (!first) out += ", ";
                first = false;
                out += str_repr(it.key()) + ": " + repr_of(it.value());
            }
            return out + "}";
        }
        default: return v.dump();
    }
}

}  // namespace matrix::eval::py
