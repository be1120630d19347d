// safetensors reader (mmap) and writer. Format: github.com/huggingface/safetensors (README "Format").
#include "core/util/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/util/json_input.h"

namespace matrix {

namespace {
struct DTypeInfo {
    DType type;
    const char* name;
    size_t size;
};
constexpr DTypeInfo k_dtypes[] = {{DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2},
                                  {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8}, {DType::I32, "I32", 4},
                                  {DType::I16, "I16", 2}, {DType::I8, "I8", 1}, {DType::U8, "U8", 1},
                                  {DType::BOOL, "BOOL", 1}};
}  // namespace

const char* dtype_name(DType t) {
    for (auto& d : k_dtypes)
        if (d.type == t) return d.name;
    return "?";
}
size_t dtype_size(DType t) {
    for (auto& d : k_dtypes)
        if (d.type == t) return d.size;
    return 0;
}
Result<DType> parse_dtype(const std::string& name) {
    for (auto& d : k_dtypes)
        if (name == d.name) return d.type;
    return make_error("unsupported dtype '" + name + "'");
}

int64_t TensorView::numel() const {
    int64_t n = 1;
    for (auto s : shape) n *= s;
    return n;
}

Result<std::shared_ptr<SafetensorsFile>> SafetensorsFile::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(std::string("cannot open: ") + std::strerror(errno), path);
    struct stat st {};
    if (fstat(fd, &st) != 0 || st.st_size < 8) {
        ::close(fd);
        return make_error("not a safetensors file (too short)", path);
    }
    size_t size = size_t(st.st_size);
    void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) return make_error(std::string("mmap failed: ") + std::strerror(errno), path);

    std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
    file->m_path = path;
    file->m_map = map;
    file->m_map_size = size;
    auto bytes = static_cast<const uint8_t*>(map);
    uint64_t header_len = 0;
    for (int i = 0; i < 8; ++i) header_len |= uint64_t(bytes[i]) << (8 * i);
    if (header_len > size - 8) return make_error("header length " + std::to_string(header_len) + " exceeds file size", path);
    const uint8_t* data_start = bytes + 8 + header_len;
    size_t data_size = size - 8 - header_len;

    nlohmann::json header;
    try {
        // ordered parse keeps header order, which is the order tensors were written in
        auto parsed = parse_ordered_json(std::string_view(reinterpret_cast<const char*>(bytes + 8), header_len));
        if (!parsed.ok()) return make_error("bad JSON header: " + parsed.error().message, path);
        header = std::move(parsed).value();
    } catch (const std::exception& e) {
        return make_error(std::string("bad JSON header: ") + e.what(), path);
    }
    if (!header.is_object()) return make_error("header is not a JSON object", path);
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__") {
            if (it->is_object())
                for (auto m = it->begin(); m != it->end(); ++m)
                    if (m->is_string()) file->m_metadata[m.key()] = m->get<std::string>();
            continue;
        }
        const auto& info = it.value();
        std::string ctx = path + ": tensor " + it.key();
        if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets"))
            return make_error("entry lacks dtype/shape/data_offsets", ctx);
        const auto& offsets = info["data_offsets"];
        if (!info["dtype"].is_string() || !info["shape"].is_array() || !offsets.is_array() || offsets.size() != 2 ||
            !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
            return make_error("dtype must be a string, shape a list, data_offsets two non-negative integers", ctx);
        auto dt = parse_dtype(info["dtype"].get<std::string>());
        if (!dt) return dt.error().within(ctx);
        TensorView v;
        v.name = it.key();
        v.dtype = *dt;
        uint64_t numel = 1;
        for (auto& s : info["shape"]) {
            if (!s.is_number_unsigned()) return make_error("shape entries must be non-negative integers", ctx);
            const uint64_t d = s.get<uint64_t>();
            if (d != 0 && numel > data_size / d) return make_error("shape is larger than the file", ctx);
            numel *= d;
            v.shape.push_back(int64_t(d));
        }
        auto begin = offsets[0].get<uint64_t>();
        auto end = offsets[1].get<uint64_t>();
        if (end < begin || end > data_size) return make_error("data_offsets out of range", ctx);
        v.nbytes = size_t(end - begin);
        if (numel * dtype_size(v.dtype) != v.nbytes)
            return make_error("byte size does not match shape and dtype", ctx);
        v.data = data_start + begin;
        file->m_index[v.name] = file->m_tensors.size();
        file->m_tensors.push_back(std::move(v));
    }
    // Tensors must not share bytes (a crafted header could alias one tensor's data into another).
    std::vector<std::pair<const uint8_t*, const TensorView*>> spans;
    for (const auto& t : file->m_tensors)
        if (t.nbytes) spans.emplace_back(t.data, &t);
    std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 1; i < spans.size(); ++i)
        if (spans[i - 1].first + spans[i - 1].second->nbytes > spans[i].first)
            return make_error("tensors " + spans[i - 1].second->name + " and " + spans[i].second->name + " overlap", path);
    return file;
}

SafetensorsFile::~SafetensorsFile() {
    if (m_map) munmap(m_map, m_map_size);
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
    auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : &m_tensors[it->second];
}

Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) {
        header["__metadata__"] = nlohmann::ordered_json::object();
        for (auto& [k, v] : metadata) header["__metadata__"][k] = v;
    }
    uint64_t offset = 0;
    std::vector<size_t> sizes;
    for (const auto& t : tensors) {
        int64_t n = 1;
        for (auto s : t.shape) n *= s;
        size_t nbytes = size_t(n) * dtype_size(t.dtype);
        sizes.push_back(nbytes);
        header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + nbytes}}};
        offset += nbytes;
    }
    std::string h = header.dump();
    while ((8 + h.size()) % 8) h.push_back(' ');  // align the data section to 8 bytes, as the reference writer does
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return make_error("cannot write", tmp);
        uint8_t len[8];
        for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(h.size()) >> (8 * i));
        out.write(reinterpret_cast<const char*>(len), 8);
        out.write(h.data(), std::streamsize(h.size()));
        for (size_t i = 0; i < tensors.size(); ++i)
            out.write(static_cast<const char*>(tensors[i].data), std::streamsize(sizes[i]));
        out.flush();
        if (!out) return make_error("write failed (disk full?)", tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return make_error(std::string("rename failed: ") + std::strerror(errno), path);
    return {};
}

}  // namespace matrix
