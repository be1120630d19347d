// Streaming reader for a file that is one big JSON array of records (M-TRACE: 177K trajectories, ~2 GB):
// the file is memory-mapped and parsed one top-level element at a time into a nlohmann::json, so memory holds
// one record's DOM, never the whole file's. Each element comes with its record index and byte offset.
// A syntax error is reported (index, byte offset, reason) and the reader resynchronises: it scans forward for
// the next '{' that starts a complete, record-shaped object, so the good records after a damaged one (or after
// a truncated head, as in shared/data/mtrace/truncated-tail.json) are still delivered.
// Not thread-safe; one reader per file per thread. Never throws.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.h"

namespace matrix::formats {

struct JsonItem {
    // Oversized: a well-formed element longer than the reader's record limit (set_max_record_bytes), skipped
    // without building its DOM: index, offset and end are set, value stays null.
    enum class Kind { Element, SyntaxError, Oversized };
    Kind kind = Kind::Element;
    // Element: its position among the elements of the array (0-based), counting damaged ones.
    // SyntaxError inside an element: that element's index (the index is used up). Between elements (a
    // missing comma, content after the closing ']'): the index the next element will get (not used up).
    int64_t index = 0;
    int64_t offset = 0;         // Element: byte offset of its first character. SyntaxError: where it was found
    int64_t end = 0;            // Element: byte offset just past it
    int64_t record_offset = -1; // SyntaxError inside an element: the offset where that element starts
    bool resynced = false;      // Element found by resynchronisation after an error (skipped bytes before it)
    nlohmann::json value;       // Element
    std::string message;        // SyntaxError: the reason, one line
};

// Parses one JSON value starting at text[pos] (leading whitespace allowed). On success `pos` is just past the
// value. On failure returns false with `error` and `error_pos` set. Strict RFC 8259 (UTF-8 validated, no
// comments, no trailing commas); nesting deeper than 512 is an error.
bool parse_json_value(std::string_view text, size_t& pos, nlohmann::json& out, std::string& error, size_t& error_pos);

// Like parse_json_value but builds nothing (no DOM, no string copies): checks the value and finds its end.
bool validate_json_value(std::string_view text, size_t& pos, std::string& error, size_t& error_pos);

// validate_json_value for a value that is an object (or not: then `keys` stays empty) that also collects the
// object's own member names, in order (values checked, never built).
bool validate_json_object_keys(std::string_view text, size_t& pos, std::vector<std::string>& keys, std::string& error,
                               size_t& error_pos);

// Where the JSON value starting at text[start] (leading whitespace allowed) ends, if it ends within `limit`
// bytes of `start`; npos when it does not (or is damaged so that its brackets never close). A cheap scan of
// brackets and strings, not a validation; for a number or literal it returns where the value starts.
size_t json_value_end_within(std::string_view text, size_t start, size_t limit);

class JsonArrayReader {
public:
    // Memory-maps the file. Error when it cannot be opened.
    static Result<JsonArrayReader> open_file(const std::string& path);
    // Reads from a copy of `text` (tests, fuzzing).
    static JsonArrayReader from_string(std::string text);

    JsonArrayReader(JsonArrayReader&&) noexcept;
    JsonArrayReader& operator=(JsonArrayReader&&) noexcept;
    ~JsonArrayReader();

    // Which objects resynchronisation may land on (default: any object). Importers pass their record shape
    // (e.g. "has key conversations") so a '{' inside a damaged record's turns is not taken for a record.
    void set_record_predicate(std::function<bool(const nlohmann::json&)> predicate);

    // Elements longer than this many bytes come as Kind::Oversized, their DOM never built (0: no limit, the
    // default). Bounds an importer's memory by the limit rather than by the largest record. This holds for the
    // objects resynchronisation finds too (after a syntax error, or in a file that is not an array): an object
    // over the limit that the record predicate accepts by its member names comes as a resynced Oversized item.
    void set_max_record_bytes(uint64_t limit) { m_max_record_bytes = limit; }

    // The next element or error; false at the end of the input.
    bool next(JsonItem& item);

    int64_t size() const { return int64_t(m_text.size()); }
    int64_t position() const { return int64_t(m_pos); }  // bytes consumed (for progress)

private:
    JsonArrayReader() = default;
    struct Mapping;
    bool resync(size_t from, JsonItem& item);
    void release_consumed();
    void skip_ws();

    std::unique_ptr<Mapping> m_map;
    std::string m_owned;
    std::string_view m_text;
    size_t m_pos = 0;
    int64_t m_index = 0;
    enum class State { Start, FirstElement, AfterElement, AfterArray, Done } m_state = State::Start;
    bool m_no_array = false;  // the input does not start with '[' (reported once): objects are read loosely
    std::function<bool(const nlohmann::json&)> m_predicate;
    uint64_t m_max_record_bytes = 0;
    size_t m_released = 0;  // pages of the mapping before this offset were given back (release_consumed)
    bool m_have_pending = false;
    JsonItem m_pending;
};

}  // namespace matrix::formats
