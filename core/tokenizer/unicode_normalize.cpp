// NFC/NFD over the generated tables (see unicode_normalize.h). The algorithm follows UAX #15:
// full canonical decomposition (recursive, Hangul algorithmic), stable reordering of combining marks by
// canonical combining class, then canonical composition with the "blocked" rule.
#include "core/tokenizer/unicode_normalize.h"
#include "core/util/utf8.h"

#include <algorithm>

namespace matrix::tok {
namespace {

#include "core/tokenizer/unicode_tables.inc"

constexpr char32_t k_s_base = 0xAC00, k_l_base = 0x1100, k_v_base = 0x1161, k_t_base = 0x11A7;
constexpr int k_l_count = 19, k_v_count = 21, k_t_count = 28;
constexpr int k_n_count = k_v_count * k_t_count, k_s_count = k_l_count * k_n_count;

template <size_t N>
const uint32_t* find_row(const uint32_t (*table)[N], size_t rows, uint32_t cp) {
    size_t lo = 0, hi = rows;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (table[mid][0] < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < rows && table[lo][0] == cp ? table[lo] : nullptr;
}

void decompose_into(char32_t cp, std::vector<char32_t>& out) {
    if (cp >= k_s_base && cp < k_s_base + k_s_count) {
        int s = int(cp - k_s_base);
        out.push_back(k_l_base + s / k_n_count);
        out.push_back(k_v_base + (s % k_n_count) / k_t_count);
        if (s % k_t_count) out.push_back(k_t_base + s % k_t_count);
        return;
    }
    if (cp < 0xC0) {  // nothing below U+00C0 decomposes canonically
        out.push_back(cp);
        return;
    }
    const uint32_t* row = find_row(k_decomp_index, sizeof(k_decomp_index) / sizeof(k_decomp_index[0]), cp);
    if (!row) {
        out.push_back(cp);
        return;
    }
    for (uint32_t i = 0; i < row[2]; ++i) decompose_into(k_decomp_data[row[1] + i], out);
}

// Primary composite of (a, b), or 0.
char32_t compose_pair(char32_t a, char32_t b) {
    if (a >= k_l_base && a < k_l_base + k_l_count && b >= k_v_base && b < k_v_base + k_v_count)
        return k_s_base + ((a - k_l_base) * k_v_count + (b - k_v_base)) * k_t_count;
    if (a >= k_s_base && a < k_s_base + k_s_count && (a - k_s_base) % k_t_count == 0 && b > k_t_base &&
        b < k_t_base + k_t_count)
        return a + (b - k_t_base);
    size_t lo = 0, hi = sizeof(k_compose) / sizeof(k_compose[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const uint32_t* r = k_compose[mid];
        if (r[0] < a || (r[0] == a && r[1] < b)) lo = mid + 1;
        else hi = mid;
    }
    constexpr size_t n = sizeof(k_compose) / sizeof(k_compose[0]);
    return lo < n && k_compose[lo][0] == a && k_compose[lo][1] == b ? k_compose[lo][2] : 0;
}

std::vector<char32_t> decompose_and_reorder(const std::vector<char32_t>& cps) {
    std::vector<char32_t> d;
    d.reserve(cps.size() + 8);
    for (char32_t cp : cps) decompose_into(cp, d);
    // Canonical ordering: stable sort each run of non-starters by combining class.
    size_t i = 0;
    while (i < d.size()) {
        if (canonical_combining_class(d[i]) == 0) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < d.size() && canonical_combining_class(d[j]) != 0) ++j;
        if (j - i > 1)
            std::stable_sort(d.begin() + i, d.begin() + j, [](char32_t x, char32_t y) {
                return canonical_combining_class(x) < canonical_combining_class(y);
            });
        i = j;
    }
    return d;
}

// "Inert" code points: starters (class 0) without a canonical decomposition that never compose with a
// preceding character. NFC leaves text between two inert characters independent of its surroundings, so
// only the spans around non-inert characters need the full algorithm. BMP answers come from a bitset
// built once; supplementary code points are looked up.
struct InertTable {
    std::vector<bool> non_inert_bmp = std::vector<bool>(0x10000, false);
    std::vector<uint32_t> second_of_pair;  // sorted: code points that are the 2nd element of a composition
    InertTable() {
        for (const auto& r : k_ccc) if (r[0] < 0x10000) non_inert_bmp[r[0]] = true;
        for (const auto& r : k_decomp_index) if (r[0] < 0x10000) non_inert_bmp[r[0]] = true;
        for (const auto& r : k_compose) {
            second_of_pair.push_back(r[1]);
            if (r[1] < 0x10000) non_inert_bmp[r[1]] = true;
        }
        std::sort(second_of_pair.begin(), second_of_pair.end());
        for (char32_t c = k_v_base; c < k_v_base + k_v_count; ++c) non_inert_bmp[c] = true;
        for (char32_t c = k_t_base + 1; c < k_t_base + k_t_count; ++c) non_inert_bmp[c] = true;
        for (char32_t c = k_s_base; c < k_s_base + k_s_count; ++c) non_inert_bmp[c] = true;
    }
    bool inert(char32_t cp) const {
        if (cp < 0x300) return true;
        if (cp < 0x10000) return !non_inert_bmp[cp];
        if (canonical_combining_class(cp) != 0) return false;
        if (find_row(k_decomp_index, sizeof(k_decomp_index) / sizeof(k_decomp_index[0]), cp)) return false;
        return !std::binary_search(second_of_pair.begin(), second_of_pair.end(), uint32_t(cp));
    }
};

const InertTable& inert_table() {
    static const InertTable t;
    return t;
}

// Canonical composition of an already decomposed and reordered sequence (UAX #15 D117).
std::vector<char32_t> compose(const std::vector<char32_t>& d) {
    std::vector<char32_t> out;
    out.reserve(d.size());
    long starter = -1;  // index in `out` of the last starter
    int last_cc = -1;   // class of the last char appended after the starter; -1: none (adjacent)
    for (char32_t c : d) {
        int cc = canonical_combining_class(c);
        if (starter >= 0) {
            bool blocked = !(last_cc == -1 || (last_cc != 0 && last_cc < cc));
            if (!blocked) {
                char32_t comp = compose_pair(out[starter], c);
                if (comp) {
                    out[starter] = comp;
                    continue;
                }
            }
        }
        if (cc == 0) {
            starter = long(out.size());
            last_cc = -1;
        } else {
            last_cc = cc;
        }
        out.push_back(c);
    }
    return out;
}

bool all_below(std::string_view s, unsigned char limit_lead) {
    // True when every byte is ASCII or a 2-byte lead below `limit_lead` (0xCC starts U+0300).
    for (unsigned char c : s)
        if (c >= limit_lead) return false;
    return true;
}

}  // namespace

const char* unicode_tables_version() { return MATRIX_UNICODE_VERSION; }

bool utf8_valid(std::string_view s) { return utf8::valid(s); }

std::vector<char32_t> utf8_decode(std::string_view s) {
    const std::u32string cps = utf8::decode(s);
    return std::vector<char32_t>(cps.begin(), cps.end());
}

void utf8_append(std::string& out, char32_t cp) { utf8::append(out, cp); }

std::string utf8_encode(const std::vector<char32_t>& cps) {
    return utf8::encode(std::u32string_view(cps.data(), cps.size()));
}

std::string utf8_sanitize(std::string_view s) { return utf8::sanitize(s); }

uint8_t canonical_combining_class(char32_t cp) {
    if (cp < 0x300) return 0;
    const uint32_t* row = find_row(k_ccc, sizeof(k_ccc) / sizeof(k_ccc[0]), cp);
    return row ? uint8_t(row[1]) : 0;
}

std::string nfd(std::string_view s) {
    if (all_below(s, 0xC3)) return utf8_sanitize(s);  // ASCII and U+0080..U+00BF never decompose
    return utf8_encode(decompose_and_reorder(utf8_decode(s)));
}

std::string nfc(std::string_view s) {
    if (all_below(s, 0xCC)) return utf8_sanitize(s);  // all code points < U+0300: already NFC
    std::string valid;
    if (!utf8_valid(s)) {
        valid = utf8_sanitize(s);
        s = valid;
    }
    const InertTable& inert = inert_table();
    // Walks valid UTF-8 one code point at a time; inert characters are copied as bytes.
    auto next_cp = [&](size_t i, size_t& len) -> char32_t {
        const utf8::Decoded d = utf8::decode_at(s, i);
        len = d.len;
        return d.cp;
    };
    std::string out;
    out.reserve(s.size() + 8);
    size_t i = 0, n = s.size(), len = 0, len2 = 0;
    while (i < n) {
        char32_t cp = next_cp(i, len);
        if (inert.inert(cp) && (i + len == n || inert.inert(next_cp(i + len, len2)))) {
            out.append(s.data() + i, len);
            i += len;
            continue;
        }
        // A span that needs normalising: from here (an inert starter that may take following marks, or a
        // non-inert character) up to the next inert character.
        std::vector<char32_t> span{cp};
        size_t j = i + len;
        while (j < n) {
            char32_t c = next_cp(j, len2);
            if (inert.inert(c)) break;
            span.push_back(c);
            j += len2;
        }
        for (char32_t c : compose(decompose_and_reorder(span))) utf8_append(out, c);
        i = j;
    }
    return out;
}

}  // namespace matrix::tok
