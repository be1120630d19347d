// Decoding images into 8-bit RGB the way HF's processors see them after PIL's convert_to_rgb: EXIF
// orientation ignored (PIL does not apply it), grayscale replicated, alpha composited onto white
// (transformers' convert_to_rgb), 16-bit samples reduced to their high byte (PIL does the same for 16-bit
// RGB PNGs; for 16-bit grayscale PIL clips at 255 instead, a PIL quirk we do not copy).
// OpenCV (imgcodecs) does the decoding; it stays inside the .cpp, the interface is plain buffers.
// Thread safety: free functions, reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::vision {

struct RgbImage {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> data;  // [height, width, 3] row-major RGB
    uint8_t at(int y, int x, int c) const { return data[(size_t(y) * size_t(width) + size_t(x)) * 3 + size_t(c)]; }
};

// Reads PNG, JPEG, BMP, WebP, TIFF ... (whatever the OpenCV build decodes). The error names the file.
Result<RgbImage> load_rgb(const std::string& path);
// Decodes an in-memory encoded image; `name` is used in errors.
Result<RgbImage> decode_rgb(const uint8_t* bytes, size_t size, const std::string& name);

}  // namespace matrix::vision
