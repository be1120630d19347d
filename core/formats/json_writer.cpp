// Streaming JSON array writer with atomic rename (see json_writer.h).
#include "core/formats/json_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace matrix::formats {

JsonArrayWriter::~JsonArrayWriter() {
    if (m_file) {
        std::fclose(m_file);
        std::remove(m_tmp.c_str());
    }
}

Status JsonArrayWriter::open(const std::string& path) {
    m_path = path;
    m_tmp = path + ".tmp-" + std::to_string(::getpid());
    m_file = std::fopen(m_tmp.c_str(), "wb");
    if (!m_file) return make_error(std::string("cannot write: ") + std::strerror(errno), m_tmp);
    std::fputs("[", m_file);
    return {};
}

Status JsonArrayWriter::write(const nlohmann::ordered_json& element) {
    if (!m_file) return make_error("writer not open");
    std::string text;
    try {
        text = element.dump(4, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    } catch (const std::exception& e) {
        return make_error(std::string("cannot serialise record: ") + e.what(), m_path);
    }
    // Indent the element one level (it sits inside the top-level array).
    std::string out = m_count ? ",\n    " : "\n    ";
    out.reserve(out.size() + text.size() + text.size() / 16);
    for (char c : text) {
        out += c;
        if (c == '\n') out += "    ";
    }
    if (std::fwrite(out.data(), 1, out.size(), m_file) != out.size())
        return make_error(std::string("write failed: ") + std::strerror(errno), m_tmp);
    ++m_count;
    return {};
}

Status JsonArrayWriter::finish() {
    if (!m_file) return make_error("writer not open");
    std::fputs(m_count ? "\n]\n" : "]\n", m_file);
    const bool ok = std::fflush(m_file) == 0 && ::fsync(fileno(m_file)) == 0;
    std::fclose(m_file);
    m_file = nullptr;
    if (!ok || std::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
        std::remove(m_tmp.c_str());
        return make_error(std::string("cannot finish writing: ") + std::strerror(errno), m_path);
    }
    return {};
}

Status write_json_file(const std::string& path, const nlohmann::ordered_json& value) {
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) return make_error(std::string("cannot write: ") + std::strerror(errno), tmp);
    const std::string text = value.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0;
    std::fclose(f);
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return make_error("cannot write file", path);
    }
    return {};
}

}  // namespace matrix::formats
