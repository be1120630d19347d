// BPE merge loop with a min-heap of candidate pairs over a doubly linked list of symbols, so long
// pre-tokens (a 100 KB run of digits-free text) cost O(n log n), not O(n^2).
#include "core/tokenizer/bpe.h"
#include "core/util/utf8.h"

#include <queue>

namespace matrix::tok {
namespace {

inline uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

inline size_t utf8_len(unsigned char c) { return utf8::sequence_length(c); }

}  // namespace

Result<std::shared_ptr<BpeModel>> BpeModel::create(std::unordered_map<std::string, int32_t> vocab,
                                                   const std::vector<std::pair<std::string, std::string>>& merges) {
    auto model = std::make_shared<BpeModel>();
    model->m_vocab = std::move(vocab);
    model->m_merges.reserve(merges.size());
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const auto& [a, b] = merges[rank];
        auto ia = model->m_vocab.find(a), ib = model->m_vocab.find(b), iab = model->m_vocab.find(a + b);
        if (ia == model->m_vocab.end() || ib == model->m_vocab.end() || iab == model->m_vocab.end())
            return make_error("merge " + std::to_string(rank) + " (\"" + a + "\", \"" + b +
                              "\") uses a token missing from the vocab");
        // The first occurrence of a pair wins (HF keeps the lowest rank).
        model->m_merges.emplace(pair_key(ia->second, ib->second), Merge{int32_t(rank), iab->second});
    }
    return model;
}

size_t BpeModel::cache_size() const {
    std::lock_guard<std::mutex> lock(m_cache_mutex);
    return m_cache.size();
}

void BpeModel::clear_cache() const {
    std::lock_guard<std::mutex> lock(m_cache_mutex);
    m_cache.clear();
}

void BpeModel::encode(std::string_view word, std::vector<int32_t>& out) const {
    if (word.empty()) return;
    // A whole word in the vocab needs no merging (HF checks the cache first, then merges; the result is the
    // same because the merges that build a vocab token always exist in a trained BPE, but we do not rely on
    // that: only single characters take this shortcut).
    if (word.size() <= 4 && utf8_len(static_cast<unsigned char>(word[0])) == word.size()) {
        auto it = m_vocab.find(std::string(word));
        if (it != m_vocab.end()) out.push_back(it->second);
        return;
    }
    bool cacheable = word.size() <= k_cache_max_word;
    if (cacheable) {
        std::lock_guard<std::mutex> lock(m_cache_mutex);
        auto it = m_cache.find(std::string(word));
        if (it != m_cache.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<int32_t> ids;
    merge_word(word, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    if (cacheable) {
        std::lock_guard<std::mutex> lock(m_cache_mutex);
        if (m_cache.size() >= k_cache_capacity) m_cache.clear();
        m_cache.emplace(std::string(word), std::move(ids));
    }
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& out) const {
    struct Symbol {
        int32_t id;
        int32_t prev, next;
        bool alive;
    };
    std::vector<Symbol> syms;
    syms.reserve(word.size());
    for (size_t i = 0; i < word.size();) {
        size_t len = std::min(utf8_len(static_cast<unsigned char>(word[i])), word.size() - i);
        auto it = m_vocab.find(std::string(word.substr(i, len)));
        i += len;
        if (it == m_vocab.end()) continue;  // no unk token: dropped
        int32_t idx = int32_t(syms.size());
        syms.push_back({it->second, idx - 1, idx + 1, true});
    }
    if (syms.empty()) return;
    syms.back().next = -1;

    struct Candidate {
        int32_t rank, pos, new_id, right_id;
        bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
    auto push_pair = [&](int32_t pos) {
        if (pos < 0 || syms[pos].next < 0) return;
        const Symbol& l = syms[pos];
        const Symbol& r = syms[l.next];
        auto it = m_merges.find(pair_key(l.id, r.id));
        if (it != m_merges.end()) heap.push({it->second.rank, pos, it->second.new_id, r.id});
    };
    for (int32_t i = 0; i + 1 < int32_t(syms.size()); ++i) push_pair(i);

    while (!heap.empty()) {
        Candidate c = heap.top();
        heap.pop();
        Symbol& l = syms[c.pos];
        if (!l.alive || l.next < 0) continue;
        Symbol& r = syms[l.next];
        // Stale entry: one side changed since it was pushed.
        auto it = m_merges.find(pair_key(l.id, r.id));
        if (r.id != c.right_id || it == m_merges.end() || it->second.new_id != c.new_id) continue;
        l.id = c.new_id;
        r.alive = false;
        l.next = r.next;
        if (r.next >= 0) syms[r.next].prev = c.pos;
        push_pair(l.prev);
        push_pair(c.pos);
    }
    for (int32_t i = 0; i >= 0; i = syms[i].next) out.push_back(syms[i].id);
}

}  // namespace matrix::tok
