// A strict, allocation-light JSON parser over a memory-mapped file, and the array reader with error recovery
// (see json_stream.h). Hand-written rather than nlohmann's parser so that one pass both finds element
// boundaries with byte offsets and builds the element's DOM, with an ASCII fast path for the long strings
// (13 KB system prompts, observations) that dominate M-TRACE files.
#include "core/formats/json_stream.h"
#include "core/util/utf8.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

// ---- JsonArrayReader ----

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
