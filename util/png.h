// Greyscale pictures as PNG files (libpng's simplified API), written
// atomically, and a grid of samples for them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mcasim {

// width x height bytes, row-major; throws output_error naming the file.
void write_png_gray(const std::string& path, const uint8_t* pixels, std::size_t width,
                    std::size_t height);
// The PNG bytes of the same.
std::string png_gray(const uint8_t* pixels, std::size_t width, std::size_t height);

// n samples of h x w values in [0, 1] (clamped) tiled `cols` per row with a
// 1-pixel black border around each; returns the picture, its width and height.
struct gray_image {
  std::vector<uint8_t> pixels;
  std::size_t width = 0, height = 0;
};
gray_image sample_grid(const float* samples, std::size_t n, std::size_t h, std::size_t w,
                       std::size_t cols);

}  // namespace mcasim
