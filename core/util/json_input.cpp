// See json_input.h.
#include "core/util/json_input.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace matrix {

size_t json_depth_exceeded_at(std::string_view text, int max_depth) {
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return i;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return std::string_view::npos;
}

// "[json.exception.parse_error.101] parse error at line 1, column 3: syntax error while parsing value - invalid
// literal; last read: 'x'" -> "syntax error while parsing value - invalid literal; last read: 'x'".
std::string json_exception_reason(const nlohmann::json::exception& e) {
    // "[json.exception.type_error.302] type must be ..." and "[json.exception.parse_error.101] parse error at line
    // 1, column 3: syntax error ..." (the position is ours to give): the text after the bracket, and after the
    // library's own position when it has one.
    std::string what = e.what();
    if (what.rfind("[json.exception.", 0) == 0) {
        const size_t bracket = what.find("] ");
        if (bracket != std::string::npos) what = what.substr(bracket + 2);
        if (what.rfind("parse error", 0) == 0) {
            const size_t colon = what.find(": ");
            if (colon != std::string::npos) what = what.substr(colon + 2);
        }
    }
    // The library quotes the bytes it read last, which may be invalid UTF-8: a message must stay printable and
    // storable as JSON, so bytes outside ASCII are shown as \xNN.
    std::string out;
    for (unsigned char c : what) {
        if (c < 0x80 && (c >= 0x20 || c == '\t')) {
            out += static_cast<char>(c);
        } else {
            static const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

namespace {

template <class Json>
Result<Json> parse_bounded(std::string_view text) {
    if (const size_t at = json_depth_exceeded_at(text); at != std::string_view::npos)
        return make_error("JSON nesting deeper than " + std::to_string(k_max_json_depth) + " levels at byte " + std::to_string(at));
    try {
        return Json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::parse_error& e) {
        return make_error("JSON syntax error at byte " + std::to_string(e.byte) + ": " + json_exception_reason(e));
    } catch (const nlohmann::json::exception& e) {
        return make_error("JSON error: " + json_exception_reason(e));
    }
}

}  // namespace

Result<nlohmann::json> parse_json(std::string_view text) { return parse_bounded<nlohmann::json>(text); }
Result<nlohmann::ordered_json> parse_ordered_json(std::string_view text) { return parse_bounded<nlohmann::ordered_json>(text); }

Result<std::string> read_regular_file(const std::string& path, uint64_t max_bytes) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return make_error(std::string("cannot open file: ") + std::strerror(errno), path);
    if (S_ISDIR(st.st_mode)) return make_error("is a folder, not a file", path);
    if (!S_ISREG(st.st_mode)) return make_error("not a regular file (a device, FIFO or socket)", path);
    if (static_cast<uint64_t>(st.st_size) > max_bytes)
        return make_error("file too large (" + std::to_string(st.st_size) + " bytes; the limit is " + std::to_string(max_bytes) + ")", path);
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(std::string("cannot open file: ") + std::strerror(errno), path);
    std::string text(static_cast<size_t>(st.st_size), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    if (in.bad()) return make_error("read error", path);
    return text;
}

Result<nlohmann::json> read_json_file(const std::string& path, uint64_t max_bytes) {
    MATRIX_TRY(std::string text, read_regular_file(path, max_bytes));
    auto j = parse_json(text);
    if (!j.ok()) return j.error().within(path);
    return j;
}

Result<nlohmann::ordered_json> read_ordered_json_file(const std::string& path, uint64_t max_bytes) {
    MATRIX_TRY(std::string text, read_regular_file(path, max_bytes));
    auto j = parse_ordered_json(text);
    if (!j.ok()) return j.error().within(path);
    return j;
}

}  // namespace matrix
