// The array reader with error recovery over a memory-mapped file (see json_stream.h); the JSON parser it uses
// is in json_parse.cpp.
#include "core/formats/json_stream.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace matrix::formats {

struct JsonArrayReader::Mapping {
    void* addr = nullptr;
    size_t len = 0;
    ~Mapping() {
        if (addr) munmap(addr, len);
    }
};

Result<JsonArrayReader> JsonArrayReader::open_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(std::string("cannot open: ") + std::strerror(errno), path);
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return make_error("not a regular file", path);
    }
    JsonArrayReader r;
    r.m_map = std::make_unique<Mapping>();
    if (st.st_size > 0) {
        void* a = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
        if (a == MAP_FAILED) {
            ::close(fd);
            return make_error(std::string("cannot map: ") + std::strerror(errno), path);
        }
        madvise(a, size_t(st.st_size), MADV_SEQUENTIAL);
        r.m_map->addr = a;
        r.m_map->len = size_t(st.st_size);
        r.m_text = std::string_view(static_cast<const char*>(a), size_t(st.st_size));
    }
    ::close(fd);
    return r;
}

JsonArrayReader JsonArrayReader::from_string(std::string text) {
    JsonArrayReader r;
    r.m_owned = std::move(text);
    r.m_text = r.m_owned;
    return r;
}

JsonArrayReader::JsonArrayReader(JsonArrayReader&& o) noexcept { *this = std::move(o); }

JsonArrayReader& JsonArrayReader::operator=(JsonArrayReader&& o) noexcept {
    if (this == &o) return *this;
    const bool owned = o.m_text.data() == o.m_owned.data() && !o.m_owned.empty();
    m_map = std::move(o.m_map);
    m_owned = std::move(o.m_owned);
    m_text = owned ? std::string_view(m_owned) : o.m_text;
    m_pos = o.m_pos;
    m_index = o.m_index;
    m_state = o.m_state;
    m_predicate = std::move(o.m_predicate);
    m_max_record_bytes = o.m_max_record_bytes;
    m_released = o.m_released;
    m_have_pending = o.m_have_pending;
    m_pending = std::move(o.m_pending);
    o.m_text = {};
    return *this;
}

JsonArrayReader::~JsonArrayReader() = default;

void JsonArrayReader::set_record_predicate(std::function<bool(const nlohmann::json&)> predicate) {
    m_predicate = std::move(predicate);
}

void JsonArrayReader::skip_ws() {
    while (m_pos < m_text.size()) {
        char c = m_text[m_pos];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
        ++m_pos;
    }
}

// Scans from `from` for a '{' that parses as a complete object accepted by the predicate. On success fills
// `item` as a resynced Element (Oversized when over the record limit) and continues after it as if inside the
// array; else ends the input.
bool JsonArrayReader::resync(size_t from, JsonItem& item) {
    size_t at = from;
    while (at < m_text.size()) {
        const void* hit = std::memchr(m_text.data() + at, '{', m_text.size() - at);
        if (!hit) break;
        size_t start = size_t(static_cast<const char*>(hit) - m_text.data());
        size_t pos = start;
        nlohmann::json v;
        std::string err;
        size_t err_pos = 0;
        if (m_max_record_bytes > 0 &&
            json_value_end_within(m_text, start, size_t(m_max_record_bytes) + 1) == std::string_view::npos) {
            // Longer than the limit (or damaged): checked without its DOM, as next() does. The predicate sees the
            // object's member names with null values (record shapes are told apart by their keys).
            std::vector<std::string> keys;
            const bool valid = validate_json_object_keys(m_text, pos, keys, err, err_pos);
            if (valid && uint64_t(pos - start) > m_max_record_bytes) {
                nlohmann::json shape = nlohmann::json::object();
                for (auto& k : keys) shape[std::move(k)] = nullptr;
                if (!m_predicate || m_predicate(shape)) {
                    item = JsonItem{};
                    item.kind = JsonItem::Kind::Oversized;
                    item.index = m_index++;
                    item.offset = int64_t(start);
                    item.end = int64_t(pos);
                    item.resynced = true;
                    m_pos = pos;
                    m_state = State::AfterElement;
                    return true;
                }
            }
            if (!valid || uint64_t(pos - start) > m_max_record_bytes) {
                at = start + 1;
                continue;
            }
            pos = start;  // within the limit after all: parsed below
        }
        if (parse_json_value(m_text, pos, v, err, err_pos) && v.is_object() && (!m_predicate || m_predicate(v))) {
            item = JsonItem{};
            item.kind = JsonItem::Kind::Element;
            item.index = m_index++;
            item.offset = int64_t(start);
            item.end = int64_t(pos);
            item.resynced = true;
            item.value = std::move(v);
            m_pos = pos;
            m_state = State::AfterElement;
            return true;
        }
        at = start + 1;
    }
    m_pos = m_text.size();
    m_state = State::Done;
    return false;
}

void JsonArrayReader::release_consumed() {
    // The bytes before m_pos are never read again (resynchronisation only scans forward): give their pages back
    // so a large file's resident size stays near one record, not the part read so far.
    if (!m_map || !m_map->addr) return;
    static const size_t page = size_t(sysconf(_SC_PAGESIZE));
    const size_t upto = m_pos / page * page;
    if (upto < m_released + (size_t(1) << 20)) return;
    madvise(static_cast<char*>(m_map->addr) + m_released, upto - m_released, MADV_DONTNEED);
    m_released = upto;
}

bool JsonArrayReader::next(JsonItem& item) {
    release_consumed();
    if (m_have_pending) {
        item = std::move(m_pending);
        m_have_pending = false;
        return true;
    }
    auto syntax_error = [&](size_t at, std::string msg, int64_t record_offset, bool uses_index) {
        item = JsonItem{};
        item.kind = JsonItem::Kind::SyntaxError;
        item.index = uses_index ? m_index++ : m_index;
        item.offset = int64_t(at);
        item.record_offset = record_offset;
        item.message = std::move(msg);
        // Queue what resynchronisation finds, to be returned by the next call.
        JsonItem found;
        if (resync(at, found)) {
            m_pending = std::move(found);
            m_have_pending = true;
        }
        return true;
    };

    for (;;) {
        switch (m_state) {
            case State::Done: return false;
            case State::Start: {
                if (m_text.size() >= 3 && std::memcmp(m_text.data(), "\xEF\xBB\xBF", 3) == 0) m_pos = 3;  // BOM
                skip_ws();
                if (m_pos >= m_text.size()) {
                    m_state = State::Done;
                    item = JsonItem{};
                    item.kind = JsonItem::Kind::SyntaxError;
                    item.offset = int64_t(m_pos);
                    item.message = "empty file, expected a JSON array";
                    return true;
                }
                if (m_text[m_pos] != '[') {
                    m_state = State::AfterElement;
                    m_no_array = true;
                    return syntax_error(m_pos, "expected '[' at the start of the file (a JSON array of records)", -1,
                                        false);
                }
                ++m_pos;
                m_state = State::FirstElement;
                continue;
            }
            case State::FirstElement:
            case State::AfterElement: {
                skip_ws();
                if (m_no_array) {
                    // Not an array (already reported): take the next object wherever it starts.
                    if (m_pos >= m_text.size()) {
                        m_state = State::Done;
                        return false;
                    }
                    JsonItem found;
                    if (!resync(m_pos, found)) return false;
                    item = std::move(found);
                    item.resynced = false;
                    return true;
                }
                if (m_pos >= m_text.size()) {
                    m_state = State::Done;
                    item = JsonItem{};
                    item.kind = JsonItem::Kind::SyntaxError;
                    item.index = m_index;
                    item.offset = int64_t(m_pos);
                    item.message = "unexpected end of file: the array is not closed (truncated file?)";
                    return true;
                }
                char c = m_text[m_pos];
                if (c == ']') {
                    ++m_pos;
                    m_state = State::AfterArray;
                    continue;
                }
                if (m_state == State::AfterElement) {
                    if (c != ',') {
                        return syntax_error(m_pos, std::string("expected ',' or ']' after a record, found '") + c + "'",
                                            -1, false);
                    }
                    ++m_pos;
                    skip_ws();
                }
                const size_t start = m_pos;
                size_t pos = m_pos;
                nlohmann::json v;
                std::string err;
                size_t err_pos = 0;
                if (m_max_record_bytes > 0 &&
                    json_value_end_within(m_text, start, size_t(m_max_record_bytes) + 1) == std::string_view::npos) {
                    // Longer than the limit (or damaged): validated without building its DOM. A damaged one is
                    // the syntax error it always was; a well-formed one is refused by its size.
                    if (!validate_json_value(m_text, pos, err, err_pos)) {
                        m_pos = err_pos;
                        m_state = State::AfterElement;
                        return syntax_error(err_pos, err, int64_t(start), true);
                    }
                    if (uint64_t(pos - start) > m_max_record_bytes) {
                        item = JsonItem{};
                        item.kind = JsonItem::Kind::Oversized;
                        item.index = m_index++;
                        item.offset = int64_t(start);
                        item.end = int64_t(pos);
                        m_pos = pos;
                        m_state = State::AfterElement;
                        return true;
                    }
                    pos = start;  // within the limit after all (trailing whitespace): parsed below
                }
                if (!parse_json_value(m_text, pos, v, err, err_pos)) {
                    m_pos = err_pos;
                    m_state = State::AfterElement;
                    return syntax_error(err_pos, err, int64_t(start), true);
                }
                item = JsonItem{};
                item.kind = JsonItem::Kind::Element;
                item.index = m_index++;
                item.offset = int64_t(start);
                item.end = int64_t(pos);
                item.value = std::move(v);
                m_pos = pos;
                m_state = State::AfterElement;
                return true;
            }
            case State::AfterArray: {
                skip_ws();
                if (m_pos >= m_text.size()) {
                    m_state = State::Done;
                    return false;
                }
                return syntax_error(m_pos, "unexpected content after the end of the array", -1, false);
            }
        }
    }
}

}  // namespace matrix::formats
