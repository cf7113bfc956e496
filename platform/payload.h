// What every mcasim transaction carries besides the TLM generic payload: the
// training stage it belongs to (the ledger attributes energy and time by it),
// the number of bytes it occupies on a physical bus, and, for command
// transactions, the operation's dimensions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include <tlm>

namespace mcasim {

enum class stage : int { forward = 0, backward = 1, update = 2 };
constexpr int k_stages = 3;
inline const char* stage_name(stage s) {
  switch (s) {
    case stage::forward:
      return "forward";
    case stage::backward:
      return "backward";
    case stage::update:
      return "update";
  }
  return "?";
}

struct mcasim_ext : tlm::tlm_extension<mcasim_ext> {
  stage st = stage::forward;
  std::size_t wire_bytes = 0;  // bytes on the wire (codes), not the model's representation
  // Command operands (meaning depends on the target and address).
  std::size_t n_out = 0, n_in = 0;  // MVM dimensions
  std::size_t vectors = 1;          // MVMs in a block command (a batch's vectors or patches)
  uint64_t ops = 0;                 // operations actually performed (e.g. non-zero products)
  int precision_bits = 32;

  tlm::tlm_extension_base* clone() const override { return new mcasim_ext(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    *this = static_cast<const mcasim_ext&>(other);
  }
};

// The extension of a transaction; transactions without one are a broken
// contract of the initiator.
inline mcasim_ext& ext_of(tlm::tlm_generic_payload& gp) {
  mcasim_ext* e = nullptr;
  gp.get_extension(e);
  if (e == nullptr) throw std::logic_error("mcasim transaction without mcasim_ext");
  return *e;
}

}  // namespace mcasim
