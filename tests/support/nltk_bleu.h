// An independent character BLEU for tests that check MATRIX's Pref-X filter without trusting the code under test:
// a direct transliteration of NLTK's sentence_bleu([reference], candidate, smoothing_function=method1) on Python
// strings (code points, uniform 4-gram weights, clipped counts, epsilon 0.1 over the n-gram count for orders
// without a match, 0 when no unigram matches, brevity penalty against the one reference).
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace matrix::testing {

inline std::u32string code_points(const std::string& s) {
    std::u32string out;
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        const int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        for (int k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out.push_back(cp);
        i += len;
    }
    return out;
}
inline double independent_bleu(const std::string& candidate, const std::string& reference) {
    const std::u32string h = code_points(candidate), r = code_points(reference);
    double log_sum = 0;
    for (size_t n = 1; n <= 4; ++n) {
        std::map<std::u32string, int> hc, rc;
        for (size_t i = 0; i + n <= h.size(); ++i) ++hc[h.substr(i, n)];
        for (size_t i = 0; i + n <= r.size(); ++i) ++rc[r.substr(i, n)];
        int clipped = 0, total = 0;
        for (const auto& [g, c] : hc) {
            total += c;
            auto it = rc.find(g);
            clipped += std::min(c, it == rc.end() ? 0 : it->second);
        }
        const double denom = std::max(1, total);
        if (n == 1 && clipped == 0) return 0.0;  // NLTK: no unigram match scores 0
        const double p = clipped == 0 ? 0.1 / denom : clipped / denom;
        log_sum += 0.25 * std::log(p);
    }
    const double c = double(h.size()), rl = double(r.size());
    const double bp = c > rl ? 1.0 : c == 0 ? 0.0 : std::exp(1.0 - rl / c);
    return bp * std::exp(log_sum);
}

}  // namespace matrix::testing
