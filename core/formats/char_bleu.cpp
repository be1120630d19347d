// Character-level BLEU exactly as MATRIX's Pref-X filter computes it
// (pref_data_generation/data_generation/dpo_gta_traj/data_reformat/data_formating.py):
//     sentence_bleu([chosen], rejected, smoothing_function=SmoothingFunction().method1)
// with Python strings, so NLTK iterates them as characters (Unicode code points): BLEU-4, uniform weights,
// one reference, modified (clipped) n-gram precision with denominator max(1, #hypothesis n-grams),
// method1 smoothing (a precision with 0 matches becomes 0.1 / denominator), 0 when no character matches,
// brevity penalty exp(1 - r/c) when c <= r. Bytes that are not valid UTF-8 count as one character each.
#include "core/formats/char_bleu.h"
#include "core/util/utf8.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace matrix::formats {

namespace {

// Decodes UTF-8 into code points; an invalid byte b becomes 0xDC00 + b (like Python's surrogateescape).
std::vector<uint32_t> code_points(std::string_view s) {
    std::vector<uint32_t> out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const utf8::Decoded d = utf8::decode_at(s, i);
        if (d.valid) out.push_back(d.cp);
        else
            for (size_t k = 0; k < d.len; ++k) out.push_back(0xDC00u + static_cast<unsigned char>(s[i + k]));
        i += d.len;
    }
    return out;
}

// Every position of both texts with the (up to) 4 code points that start there, as 22-bit fields
// (code point + 1; 0 marks "past the end"), sorted lexicographically. Equal n-gram prefixes are then
// contiguous for every n at once, so one sort yields all four clipped match counts.
struct Start {
    uint64_t hi;    // c0 << 22 | c1
    uint64_t lo;    // c2 << 22 | c3
    uint8_t avail;  // how many real code points (1..4)
    bool hyp;       // from the candidate (else the reference)
    bool operator<(const Start& o) const { return hi != o.hi ? hi < o.hi : lo < o.lo; }
};

void add_starts(const std::vector<uint32_t>& cps, bool hyp, std::vector<Start>& out) {
    for (size_t i = 0; i < cps.size(); ++i) {
        uint64_t c[4] = {0, 0, 0, 0};
        const size_t avail = std::min<size_t>(4, cps.size() - i);
        for (size_t k = 0; k < avail; ++k) c[k] = uint64_t(cps[i + k]) + 1;
        out.push_back(Start{c[0] << 22 | c[1], c[2] << 22 | c[3], uint8_t(avail), hyp});
    }
}

bool same_prefix(const Start& a, const Start& b, size_t n) {
    switch (n) {
        case 1: return (a.hi >> 22) == (b.hi >> 22);
        case 2: return a.hi == b.hi;
        case 3: return a.hi == b.hi && (a.lo >> 22) == (b.lo >> 22);
        default: return a.hi == b.hi && a.lo == b.lo;
    }
}

// matched[n-1] = sum over distinct n-grams of min(count in candidate, count in reference).
void clipped_matches(const std::vector<uint32_t>& hyp, const std::vector<uint32_t>& ref, int64_t matched[4]) {
    std::vector<Start> starts;
    starts.reserve(hyp.size() + ref.size());
    add_starts(hyp, true, starts);
    add_starts(ref, false, starts);
    std::sort(starts.begin(), starts.end());
    for (size_t n = 1; n <= 4; ++n) {
        matched[n - 1] = 0;
        size_t g = 0;
        while (g < starts.size()) {
            size_t e = g + 1;
            while (e < starts.size() && same_prefix(starts[g], starts[e], n)) ++e;
            if (starts[g].avail >= n) {  // a group of complete n-grams (incomplete ones differ in a 0 field)
                int64_t h = 0, r = 0;
                for (size_t k = g; k < e; ++k) (starts[k].hyp ? h : r) += 1;
                matched[n - 1] += std::min(h, r);
            }
            g = e;
        }
    }
}

}  // namespace

double char_bleu(std::string_view candidate, std::string_view reference) {
    const std::vector<uint32_t> hyp = code_points(candidate);
    const std::vector<uint32_t> ref = code_points(reference);
    if (hyp.empty()) return 0.0;
    int64_t matches[4];
    clipped_matches(hyp, ref, matches);
    double log_sum = 0.0;
    for (size_t n = 1; n <= 4; ++n) {
        const int64_t matched = matches[n - 1];
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
