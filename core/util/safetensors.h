// Reading and writing the safetensors format (HF): 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then raw little-endian tensor bytes.
// Reading memory-maps the file, so a 15 GB checkpoint costs no copy until a tensor is converted.
// No torch here: the engine turns a TensorView into a tensor (core/model), the CLI writes plain buffers.
// Thread safety: a SafetensorsFile is immutable after open(); views stay valid while it lives.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

const char* dtype_name(DType t);  // "F32", "BF16", ... as in the safetensors header
size_t dtype_size(DType t);
Result<DType> parse_dtype(const std::string& name);

struct TensorView {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const uint8_t* data = nullptr;  // points into the mapping
    size_t nbytes = 0;
    int64_t numel() const;
};

class SafetensorsFile {
public:
    static Result<std::shared_ptr<SafetensorsFile>> open(const std::string& path);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::string& path() const { return m_path; }
    const std::vector<TensorView>& tensors() const { return m_tensors; }  // in header order
    const TensorView* find(const std::string& name) const;
    const std::map<std::string, std::string>& metadata() const { return m_metadata; }

private:
    SafetensorsFile() = default;
    std::string m_path;
    void* m_map = nullptr;
    size_t m_map_size = 0;
    std::vector<TensorView> m_tensors;
    std::map<std::string, size_t> m_index;
    std::map<std::string, std::string> m_metadata;
};

struct TensorToWrite {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const void* data = nullptr;  // nbytes = numel * dtype_size
};

// Writes atomically (temp file + rename). Tensors are stored in the order given.
Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

}  // namespace matrix
