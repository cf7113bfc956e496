#include "util/png.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "util/io.h"

namespace mcasim {

std::string png_gray(const uint8_t* pixels, std::size_t width, std::size_t height) {
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = static_cast<png_uint_32>(width);
  img.height = static_cast<png_uint_32>(height);
  img.format = PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (png_image_write_to_memory(&img, nullptr, &size, 0, pixels, 0, nullptr) == 0) {
    throw output_error(std::string("PNG encoding failed: ") + img.message);
  }
  std::string out(size, '\0');
  if (png_image_write_to_memory(&img, out.data(), &size, 0, pixels, 0, nullptr) == 0) {
    throw output_error(std::string("PNG encoding failed: ") + img.message);
  }
  out.resize(size);
  return out;
}

void write_png_gray(const std::string& path, const uint8_t* pixels, std::size_t width,
                    std::size_t height) {
  write_file_atomic(path, png_gray(pixels, width, height));
}

gray_image sample_grid(const float* samples, std::size_t n, std::size_t h, std::size_t w,
                       std::size_t cols) {
  gray_image g;
  cols = std::max<std::size_t>(1, std::min(cols, n));
  const std::size_t rows = (n + cols - 1) / cols;
  g.width = cols * (w + 1) + 1;
  g.height = rows * (h + 1) + 1;
  g.pixels.assign(g.width * g.height, 0);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t x0 = (k % cols) * (w + 1) + 1, y0 = (k / cols) * (h + 1) + 1;
    for (std::size_t y = 0; y < h; ++y) {
      for (std::size_t x = 0; x < w; ++x) {
        const float s = samples[k * h * w + y * w + x];
        const float v = s > 0.0f ? std::min(s, 1.0f) : 0.0f;  // NaN: 0
        g.pixels[(y0 + y) * g.width + x0 + x] = static_cast<uint8_t>(std::lround(v * 255.0f));
      }
    }
  }
  return g;
}

}  // namespace mcasim
