// NumPy's .npz (a zip of .npy arrays, numpy.lib.format version 1.0) written without NumPy, so masks leave the
// tool in an open format any numpy.load() reads (never a pickle: no object arrays). Entries are stored
// uncompressed. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::plugins {

struct NpyArray {
    std::string name;            // "masks" -> masks.npy in the zip
    std::string descr;           // NumPy dtype string: "|u1", "<i4"
    std::vector<int64_t> shape;  // C order
    std::string data;            // raw little-endian bytes, product(shape) * itemsize
};

// The .npy file (header + data) of one array.
std::string npy_bytes(const NpyArray& array);

// Writes the arrays as an .npz file.
Status write_npz(const std::string& file, const std::vector<NpyArray>& arrays);

}  // namespace matrix::plugins
