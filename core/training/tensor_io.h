// Conversions between safetensors views (core/util/safetensors.h, no torch) and torch tensors, header-only so
// the training TUs share them without another translation unit.
#pragma once

#include <torch/torch.h>

#include "core/util/result.h"
#include "core/util/safetensors.h"

namespace matrix::train {

inline torch::ScalarType torch_dtype(DType t) {
    switch (t) {
    case DType::F64: return torch::kFloat64;
    case DType::F32: return torch::kFloat32;
    case DType::F16: return torch::kFloat16;
    case DType::BF16: return torch::kBFloat16;
    case DType::I64: return torch::kInt64;
    case DType::I32: return torch::kInt32;
    case DType::I16: return torch::kInt16;
    case DType::I8: return torch::kInt8;
    case DType::U8: return torch::kUInt8;
    case DType::BOOL: return torch::kBool;
    }
    return torch::kFloat32;
}

inline Result<DType> safetensors_dtype(torch::ScalarType t) {
    switch (t) {
    case torch::kFloat64: return DType::F64;
    case torch::kFloat32: return DType::F32;
    case torch::kFloat16: return DType::F16;
    case torch::kBFloat16: return DType::BF16;
    case torch::kInt64: return DType::I64;
    case torch::kInt32: return DType::I32;
    case torch::kInt16: return DType::I16;
    case torch::kInt8: return DType::I8;
    case torch::kUInt8: return DType::U8;
    case torch::kBool: return DType::BOOL;
    default: return make_error("dtype not storable in safetensors");
    }
}

// A tensor over the mapped bytes (no copy): valid only while the SafetensorsFile lives.
inline torch::Tensor view_tensor(const TensorView& v) {
    return torch::from_blob(const_cast<uint8_t*>(v.data), v.shape, torch::TensorOptions().dtype(torch_dtype(v.dtype)));
}

}  // namespace matrix::train
