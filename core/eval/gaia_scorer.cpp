// GAIA question_scorer (see gaia_scorer.h for the rules and the reference).
#include "core/eval/gaia_scorer.h"

#include <limits>
#include <vector>

#include "core/eval/py_compat.h"

namespace matrix::eval {

namespace {

std::vector<std::string> split_list(std::string_view s) {  // re.split("[,;]", s)
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == ',' || s[i] == ';') {
            out.emplace_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}

bool is_ascii_punct(char32_t c) {  // string.punctuation
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
           (c >= 0x7B && c <= 0x7E);
}

}  // namespace

double gaia_normalize_number_str(std::string_view s) {
    std::string t;
    t.reserve(s.size());
    for (char c : s) {
        if (c != '$' && c != '%' && c != ',') t.push_back(c);
    }
    auto f = py::to_float(t);
    return f ? *f : std::numeric_limits<double>::infinity();
}

std::string gaia_normalize_str(std::string_view s, bool remove_punct) {
    std::u32string no_spaces;
    for (char32_t c : py::decode_utf8(s)) {
        if (!py::is_space(c)) no_spaces.push_back(c);
    }
    const std::string lowered = py::lower(py::encode_utf8(no_spaces));
    if (!remove_punct) return lowered;
    std::u32string out;
    for (char32_t c : py::decode_utf8(lowered)) {
        if (!is_ascii_punct(c)) out.push_back(c);
    }
    return py::encode_utf8(out);
}

bool gaia_question_scorer(std::string_view model_answer, std::string_view ground_truth) {
    if (auto gt = py::to_float(ground_truth)) {
        return gaia_normalize_number_str(model_answer) == *gt;
    }
    if (ground_truth.find_first_of(",;") != std::string_view::npos) {
        const auto gt_elems = split_list(ground_truth);
        const auto ma_elems = split_list(model_answer);
        if (gt_elems.size() != ma_elems.size()) return false;
        bool all = true;
        for (size_t i = 0; i < gt_elems.size(); ++i) {
            if (auto g = py::to_float(gt_elems[i])) {
                all = all && (gaia_normalize_number_str(ma_elems[i]) == *g);
            } else {
                all = all && (gaia_normalize_str(ma_elems[i], false) == gaia_normalize_str(gt_elems[i], false));
            }
        }
        return all;
    }
    return gaia_normalize_str(model_answer) == gaia_normalize_str(ground_truth);
}

}  // namespace matrix::eval
