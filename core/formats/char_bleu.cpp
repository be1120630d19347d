// Character-level BLEU exactly as MATRIX's Pref-X filter computes it
// (pref_data_generation/data_generation/dpo_gta_traj/data_reformat/data_formating.py):
//     sentence_bleu([chosen], rejected, smoothing_function=SmoothingFunction().method1)
// with Python strings, so NLTK iterates them as characters (Unicode code points): BLEU-4, uniform weights,
// one reference, modified (clipped) n-gram precision with denominator max(1, #hypothesis n-grams),
// method1 smoothing (a precision with 0 matches becomes 0.1 / denominator), 0 when no character matches,
// brevity penalty exp(1 - r/c) when c <= r. Bytes that are not valid UTF-8 count as one character each.
#include "core/formats/char_bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace matrix::formats {

namespace {

// Decodes UTF-8 into code points; an invalid byte b becomes 0xDC00 + b (like Python's surrogateescape).
std::vector<uint32_t> code_points(std::string_view s) {
    std::vector<uint32_t> out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
        bool ok = n > 0 && i + n <= s.size();
        for (size_t k = 1; ok && k < n; ++k) {
            const unsigned char cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) ok = false;
            else cp = (cp << 6) | (cc & 0x3Fu);
        }
        if (ok && ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF))
            ok = false;
        if (ok) {
            out.push_back(cp);
            i += n;
        } else {
            out.push_back(0xDC00u + c);
            ++i;
        }
    }
    return out;
}

// n-grams of up to 4 code points (21 bits each) packed into one 128-bit key: exact, no collisions.
struct Gram {
    uint64_t hi = 0, lo = 0;
    bool operator==(const Gram& o) const { return hi == o.hi && lo == o.lo; }
};
struct GramHash {
    size_t operator()(const Gram& g) const { return std::hash<uint64_t>()(g.hi * 0x9E3779B97F4A7C15ull ^ g.lo); }
};

Gram gram_at(const std::vector<uint32_t>& cps, size_t i, size_t n) {
    Gram g;
    for (size_t k = 0; k < n; ++k) {
        const uint64_t cp = cps[i + k] & 0x1FFFFFu;
        if (k < 2) g.lo |= cp << (21 * k);
        else g.hi |= cp << (21 * (k - 2));
    }
    g.hi |= uint64_t(n) << 60;
    return g;
}

std::unordered_map<Gram, int64_t, GramHash> counts(const std::vector<uint32_t>& cps, size_t n) {
    std::unordered_map<Gram, int64_t, GramHash> m;
    if (cps.size() < n) return m;
    m.reserve(cps.size());
    for (size_t i = 0; i + n <= cps.size(); ++i) ++m[gram_at(cps, i, n)];
    return m;
}

}  // namespace

double char_bleu(std::string_view candidate, std::string_view reference) {
    const std::vector<uint32_t> hyp = code_points(candidate);
    const std::vector<uint32_t> ref = code_points(reference);
    double log_sum = 0.0;
    for (size_t n = 1; n <= 4; ++n) {
        const auto hyp_counts = counts(hyp, n);
        const auto ref_counts = counts(ref, n);
        int64_t matched = 0;
        for (const auto& [g, c] : hyp_counts) {
            const auto it = ref_counts.find(g);
            if (it != ref_counts.end()) matched += std::min(c, it->second);
        }
        const int64_t total = hyp.size() >= n ? int64_t(hyp.size() - n + 1) : 0;
        const double denominator = double(std::max<int64_t>(1, total));
        if (n == 1 && matched == 0) return 0.0;  // NLTK: no matching unigram -> 0 before smoothing
        const double p = matched == 0 ? 0.1 / denominator : double(matched) / denominator;
        log_sum += 0.25 * std::log(p);
    }
    const double c = double(hyp.size());
    const double r = double(ref.size());
    const double bp = c > r ? 1.0 : std::exp(1.0 - r / c);  // c > 0 here: an empty candidate returned above
    return bp * std::exp(log_sum);
}

}  // namespace matrix::formats
