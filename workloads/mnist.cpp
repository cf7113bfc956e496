#include "workloads/mnist.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

namespace mcasim {
namespace {

constexpr uint32_t k_images_magic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr uint32_t k_labels_magic = 0x00000801;  // unsigned byte, 1 dimension

uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Checks an IDX header with `ndims` dimensions against the size of the whole
// file; returns the dimensions. `b` holds the file's first bytes (at least the
// header, when the file is that long).
std::vector<uint64_t> parse_header(const std::string& path, const unsigned char* b,
                                   uint64_t file_size, uint32_t magic, std::size_t ndims) {
  const std::size_t header = 4 + 4 * ndims;
  if (file_size < header) {
    throw data_error(path + ": truncated header (" + std::to_string(file_size) + " bytes, need " +
                     std::to_string(header) + ")");
  }
  const uint32_t got = be32(b);
  if (got != magic) {
    throw data_error(path + ": wrong magic number " + hex(got) + ", expected " + hex(magic) +
                     (magic == k_images_magic ? " (IDX3 unsigned-byte images)"
                                              : " (IDX1 unsigned-byte labels)"));
  }
  std::vector<uint64_t> dims(ndims);
  std::string shape;
  for (std::size_t d = 0; d < ndims; ++d) {
    dims[d] = be32(b + 4 + 4 * d);
    shape += (d ? " x " : "") + std::to_string(dims[d]);
  }
  uint64_t payload = 1;
  for (const uint64_t n : dims) {
    if (n != 0 && payload > std::numeric_limits<uint64_t>::max() / n) {
      throw data_error(path + ": header dimensions " + shape + " overflow 64 bits");
    }
    payload *= n;
  }
  const uint64_t have = file_size - header;
  if (have < payload) {
    throw data_error(path + ": truncated: header (" + shape + ") promises " +
                     std::to_string(payload) + " data bytes, file has " + std::to_string(have));
  }
  if (have > payload) {
    throw data_error(path + ": " + std::to_string(have - payload) +
                     " unexpected bytes after the data the header describes");
  }
  return dims;
}

// Refuses a path that is missing or not a regular file.
void require_regular_file(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    throw data_error(path + ": cannot open (missing file)");
  }
  if (!std::filesystem::is_regular_file(status)) {
    throw data_error(path + ": not a regular file");
  }
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Reads a whole IDX file after checking its header against its size, so a
// wrong or huge file is refused before anything is allocated for it. A
// gzipped file is decompressed (at most k_max_gunzipped_bytes) and then
// checked the same way.
std::vector<unsigned char> slurp(const std::string& path, uint32_t magic, std::size_t ndims) {
  if (ends_with(path, ".gz")) {
    auto bytes = read_gzip(path);
    parse_header(path, bytes.data(), bytes.size(), magic, ndims);
    return bytes;
  }
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw data_error(path + ": cannot open (missing file or no permission)");
  const std::streamoff size = in.tellg();
  if (size < 0) throw data_error(path + ": cannot determine the file size");
  unsigned char head[16] = {};
  const std::size_t head_size = std::min<std::size_t>(static_cast<std::size_t>(size), sizeof head);
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(head), static_cast<std::streamsize>(head_size))) {
    throw data_error(path + ": read error");
  }
  parse_header(path, head, static_cast<uint64_t>(size), magic, ndims);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    throw data_error(path + ": read error");
  }
  return bytes;
}

// dir/name, or dir/name.gz when only that one is there.
std::string plain_or_gz(const std::string& dir, const std::string& name) {
  std::string plain = dir + "/" + name;
  std::error_code ec;
  if (!std::filesystem::exists(plain, ec) && std::filesystem::exists(plain + ".gz", ec)) {
    return plain + ".gz";
  }
  return plain;
}

}  // namespace

std::vector<unsigned char> read_gzip(const std::string& path, std::size_t max_bytes) {
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw data_error(path + ": cannot open (" + std::strerror(errno) + ")");
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) {  // 15 + 16: gzip wrapper only
    throw data_error(path + ": cannot start zlib");
  }
  struct inflate_end {
    z_stream& z;
    ~inflate_end() { inflateEnd(&z); }
  } end_guard{zs};
  std::vector<unsigned char> out;
  std::vector<unsigned char> input(std::size_t{1} << 16), chunk(std::size_t{1} << 18);
  bool member_ended = false;  // the last gzip member read to its end marker
  bool any_input = false;
  for (;;) {
    if (zs.avail_in == 0) {
      in.read(reinterpret_cast<char*>(input.data()), static_cast<std::streamsize>(input.size()));
      const auto got = static_cast<std::size_t>(in.gcount());
      if (in.bad()) throw data_error(path + ": read error");
      if (got == 0) break;
      any_input = true;
      zs.next_in = input.data();
      zs.avail_in = static_cast<uInt>(got);
    }
    if (member_ended) {  // more bytes after a member: the next member
      inflateReset(&zs);
      member_ended = false;
    }
    const uInt avail_in = zs.avail_in;
    zs.next_out = chunk.data();
    zs.avail_out = static_cast<uInt>(chunk.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR) {
      const std::string why = zs.msg              ? zs.msg
                              : rc == Z_MEM_ERROR ? "out of memory"
                                                  : "error " + std::to_string(rc);
      throw data_error(path + ": corrupt gzip data (zlib: " + why + ")");
    }
    const std::size_t produced = chunk.size() - zs.avail_out;
    if (produced > max_bytes - out.size()) {
      throw data_error(path + ": decompresses to more than " + std::to_string(max_bytes) +
                       " bytes, the limit for a gzipped file");
    }
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(produced));
    if (rc == Z_STREAM_END) {
      member_ended = true;
    } else if (produced == 0 && zs.avail_in == avail_in && zs.avail_in > 0) {
      throw data_error(path + ": corrupt gzip data (zlib makes no progress)");
    }
  }
  if (!any_input) throw data_error(path + ": empty file, no gzip data");
  if (!member_ended) {
    throw data_error(path + ": truncated gzip stream (the data ends before the stream's end)");
  }
  return out;
}

dataset read_idx_pair(const std::string& images_path, const std::string& labels_path,
                      std::size_t limit) {
  const auto images = slurp(images_path, k_images_magic, 3);
  const auto labels = slurp(labels_path, k_labels_magic, 1);
  return parse_idx_pair(images_path, images, labels_path, labels, limit);
}

dataset parse_idx_pair(const std::string& images_path, const std::vector<unsigned char>& ib,
                       const std::string& labels_path, const std::vector<unsigned char>& lb,
                       std::size_t limit) {
  const auto idims = parse_header(images_path, ib.data(), ib.size(), k_images_magic, 3);
  const auto ldims = parse_header(labels_path, lb.data(), lb.size(), k_labels_magic, 1);
  if (idims[0] != ldims[0]) {
    throw data_error(images_path + " holds " + std::to_string(idims[0]) + " images but " +
                     labels_path + " holds " + std::to_string(ldims[0]) + " labels");
  }
  if (idims[0] == 0) throw data_error(images_path + ": holds no images");
  if (idims[1] == 0 || idims[2] == 0) {
    throw data_error(images_path + ": image size " + std::to_string(idims[1]) + "x" +
                     std::to_string(idims[2]) + " is empty");
  }
  dataset ds;
  ds.channels = 1;
  ds.height = static_cast<std::size_t>(idims[1]);
  ds.width = static_cast<std::size_t>(idims[2]);
  ds.pixels = static_cast<std::size_t>(idims[1] * idims[2]);
  std::size_t n = static_cast<std::size_t>(idims[0]);
  if (limit > 0 && limit < n) n = limit;
  ds.labels.resize(n);
  ds.images.resize(n * ds.pixels);
  for (std::size_t i = 0; i < n; ++i) {
    const uint8_t label = lb[8 + i];
    if (label > 9) {
      throw data_error(labels_path + ": label " + std::to_string(label) + " of item " +
                       std::to_string(i) + " is outside 0..9");
    }
    ds.labels[i] = label;
  }
  const unsigned char* px = ib.data() + 16;
  for (std::size_t k = 0; k < n * ds.pixels; ++k) ds.images[k] = px[k] / 255.0f;
  return ds;
}

mnist load_mnist(const std::string& dir, std::size_t train_limit, std::size_t test_limit) {
  mnist m;
  m.train = read_idx_pair(plain_or_gz(dir, "train-images-idx3-ubyte"),
                          plain_or_gz(dir, "train-labels-idx1-ubyte"), train_limit);
  m.test = read_idx_pair(plain_or_gz(dir, "t10k-images-idx3-ubyte"),
                         plain_or_gz(dir, "t10k-labels-idx1-ubyte"), test_limit);
  if (m.train.pixels != m.test.pixels) {
    throw data_error(dir + ": training images have " + std::to_string(m.train.pixels) +
                     " pixels but test images " + std::to_string(m.test.pixels));
  }
  return m;
}

mnist load_fashion_mnist(const std::string& dir, std::size_t train_limit, std::size_t test_limit) {
  return load_mnist(dir, train_limit, test_limit);
}

}  // namespace mcasim
