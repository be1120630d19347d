// Writes a JSON array one element at a time (exports of 177K records never build the whole array), to a
// temporary file renamed over the target on finish(), so a failed export never leaves a half-written file
// under the final name. Elements are written with 4-space indentation like the published files.
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "core/util/result.h"

namespace matrix::formats {

class JsonArrayWriter {
public:
    JsonArrayWriter() = default;
    JsonArrayWriter(const JsonArrayWriter&) = delete;
    JsonArrayWriter& operator=(const JsonArrayWriter&) = delete;
    ~JsonArrayWriter();  // removes the temporary file unless finish() succeeded

    Status open(const std::string& path);
    Status write(const nlohmann::ordered_json& element);
    Status finish();
    int64_t count() const { return m_count; }

private:
    std::string m_path, m_tmp;
    std::FILE* m_file = nullptr;
    int64_t m_count = 0;
};

// Writes a whole (small) JSON document atomically (temp file + rename).
Status write_json_file(const std::string& path, const nlohmann::ordered_json& value);

}  // namespace matrix::formats
