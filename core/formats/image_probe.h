// Reads the pixel size of an image from its header bytes (PNG, JPEG, GIF, BMP, WebP) without decoding it, so
// matrix_core can record width/height of media without OpenCV. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace matrix::formats {

struct ImageInfo {
    std::string format;  // png | jpeg | gif | bmp | webp
    int width = 0;
    int height = 0;
};

// nullopt when the bytes are not a recognised image or the header is damaged / truncated.
std::optional<ImageInfo> probe_image(std::string_view bytes);

}  // namespace matrix::formats
