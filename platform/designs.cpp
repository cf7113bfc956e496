#include "platform/designs.h"

#include <stdexcept>

#include "workloads/gan.h"
#include "workloads/network_train.h"

namespace mcasim {

platform_config::platform_config() {
  // 32-bit design: one MAC row of 60 lanes over the reduction dimension, a
  // 54-bank weight SRAM feeding it, a 32-bit element-wise datapath whose
  // derivative unit handles 8 values per cycle.
  du_digital32.kind = "du_digital32";
  du_digital32.derivative_lanes = 8;
  weight_sram32.banks = 54;
  mac32.lanes_in = 60;
  mac32.lanes_out = 1;
  mac32.precision = "32x32";
  // Digital mixed precision: a 16 x 5 grid of 4b x 8b MACs, 64 SRAM banks,
  // a wider outer-product scanner.
  du_digital_mp.kind = "du_digital_mp";
  du_digital_mp.outer_product_lanes = 503;
  weight_sram_mp.banks = 64;
  mac_mp.lanes_in = 16;
  mac_mp.lanes_out = 5;
  mac_mp.precision = "4x8";
  // MCA digital unit: 32-bank chi SRAM, 334 outer-product entries per cycle.
  du_mca.kind = "du_mca";
  du_mca.outer_product_lanes = 334;
  chi_sram.banks = 32;
  // Activation SRAM (the inputs that do not fit in the unit's buffer): 16
  // banks, a 512-bit row per cycle.
  activation_sram.banks = 16;
}

void platform_config::validate() const {
  // The modules' own checks name their field; the key of the tree names
  // which of the design's modules it is ("platform.chi_sram: sram.banks ...").
  const auto in = [](const char* key, auto&& check) {
    try {
      check();
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("platform.") + key + ": " + e.what());
    }
  };
  in("du_digital32", [&] { du_digital32.validate(); });
  in("du_digital_mp", [&] { du_digital_mp.validate(); });
  in("du_mca", [&] { du_mca.validate(); });
  in("weight_sram32", [&] { weight_sram32.validate(); });
  in("weight_sram_mp", [&] { weight_sram_mp.validate(); });
  in("chi_sram", [&] { chi_sram.validate(); });
  if (!(activation_buffer_kib >= 0 && activation_buffer_kib < 1e12)) {
    throw std::invalid_argument("platform.activation_buffer_kib must be >= 0, got " +
                                std::to_string(activation_buffer_kib));
  }
  in("activation_sram", [&] { activation_sram.validate(); });
  in("mac32", [&] { mac32.validate(); });
  in("mac_mp", [&] { mac_mp.validate(); });
  in("bus", [&] { bus.validate(); });
  in("tile", [&] { tile.validate(); });
  tiles.validate();  // its messages name platform.tiles.<field>
  dram.validate();   // platform.dram.<field>
}

std::string design::part_of(const counted&) const {
  return "digital unit";
}

void design::clear_all_counters() {
  for (counted* c : counted_modules(*this)) c->clear_counters();
  unit().clear_stage_times();
}

const sram_config& platform_config::memory_for(numerics_kind n) const {
  switch (n) {
    case numerics_kind::fp32:
      return weight_sram32;
    case numerics_kind::digital_mp:
      return weight_sram_mp;
    case numerics_kind::mca:
      break;
  }
  return chi_sram;
}

void design::place_in_memory(const network_spec& net, sram& memory, const sram_config& cfg) {
  off_chip = off_chip_layers(net, cfg.capacity_bits(), cfg.word_bits);
  memory.set_stored_bits(on_chip_bits(net, off_chip, cfg.word_bits));
  unit().place_off_chip(off_chip);
}

void design::place_inputs(const network_spec& net, sram& act_sram, const network_run_config& rc,
                          const platform_config& pc) {
  const activation_placement p = place_activations(net, rc.numerics, rc.batch, rc.bptt, pc);
  uint64_t words = 0;
  for (std::size_t k = 0; k < p.where.size(); ++k) {
    if (p.where[k] == activation_place::sram) words += p.words[k] * rc.batch;
  }
  act_sram.set_stored_bits(words * 32);
  unit().place_activations(p);
}

activation_placement place_activations(const network_spec& net, numerics_kind n, std::size_t batch,
                                       std::size_t bptt, const platform_config& pc) {
  activation_placement p;
  p.bits_per_value = n == numerics_kind::fp32 ? 32 : 8;
  const auto bits_per_value = static_cast<uint64_t>(p.bits_per_value);
  const auto kib_bits = [](double kib) { return static_cast<uint64_t>(kib * 1024.0 * 8.0); };
  const uint64_t buffer = kib_bits(pc.activation_buffer_kib);
  const uint64_t sram_cap = pc.activation_sram.capacity_bits();
  uint64_t in_buffer = 0, in_sram = 0;
  const uint64_t steps = net.steps(bptt);
  for (std::size_t i : net.weight_layers()) {
    // Per step the layer's input vector (an lstm: h(t-1) and x(t); a conv
    // layer: its input image, the patches' source).
    const layer_spec& l = net.layers[i];
    const uint64_t per_step =
        l.kind == layer_kind::lstm ? l.rows() - (l.bias ? 1 : 0) : l.in.size();
    const uint64_t values = per_step * steps;
    const uint64_t words = (values * bits_per_value + 31) / 32;
    const uint64_t bits = words * 32 * batch;
    activation_place where = activation_place::dram;
    if (in_buffer + bits <= buffer) {
      where = activation_place::buffer;
      in_buffer += bits;
    } else if (sram_cap == 0 || in_sram + bits <= sram_cap) {
      where = activation_place::sram;
      in_sram += bits;
    }
    p.where.push_back(where);
    p.words.push_back(words);
  }
  return p;
}

void design::attribute_layers() {
  for (counted* c : counted_modules(*this)) c->counters().attribute_to(unit().current_layer());
}

void design::attach_timeline(timeline& tl) {
  for (counted* c : counted_modules(*this))
    c->attach_timeline(&tl, tl.add_track(name(), counted_path(*c)));
}

void design::trace_vcd(sc_core::sc_trace_file* tf, uint64_t first, uint64_t last) {
  unit().trace_vcd(tf, first, last, [this] {
    for (std::size_t i = 0; i < vcd_sources_.size(); ++i) vcd_values_[i] = *vcd_sources_[i];
  });
  for (counted* c : counted_modules(*this)) {
    const auto* obj = dynamic_cast<const sc_core::sc_object*>(c);
    const std::string path = obj ? obj->name() : c->component();
    const action_counters& ac = c->counters();
    for (std::size_t a = 0; a < ac.action_names().size(); ++a) {
      for (int si = 0; si < k_stages; ++si) {
        const stage s = static_cast<stage>(si);
        vcd_sources_.push_back(&ac.count_ref(s, a));
        vcd_values_.push_back(0.0);
        sc_core::sc_trace(tf, vcd_values_.back(),
                          path + "." + ac.action_names()[a] + "." + stage_name(s));
      }
    }
  }
}

void check_uniform_numerics(const network_run_config& rc, const std::string& design) {
  for (const auto& [name, l] : rc.layers) {
    if (rc.numerics_of(name) != rc.numerics) {
      throw std::invalid_argument("training.layers." + name + ".numerics = " + l.numerics +
                                  ": the " + design + " design computes every layer in " +
                                  numerics_name(rc.numerics) +
                                  " (mixed numerics run functionally, not on a platform)");
    }
  }
}

namespace {

const network_run_config& checked(const network_run_config& rc, const char* design,
                                  std::initializer_list<numerics_kind> kinds) {
  rc.validate();
  check_uniform_numerics(rc, design);
  for (numerics_kind k : kinds) {
    if (rc.numerics == k) return rc;
  }
  throw std::invalid_argument(std::string("the ") + design + " design does not compute in " +
                              numerics_name(rc.numerics) + " numerics");
}

}  // namespace

digital_design::digital_design(const sc_core::sc_module_name& nm, const platform_workload& w,
                               const network_run_config& rc, const platform_config& pc,
                               uint64_t seed)
    : design(nm),
      net(w.gan ? nullptr
                : std::make_unique<model>(
                      w.layers,
                      checked(rc, "digital", {numerics_kind::fp32, numerics_kind::digital_mp}),
                      seed)),
      machine(w.gan ? make_gan_machine(
                          *w.gan,
                          checked(rc, "digital", {numerics_kind::fp32, numerics_kind::digital_mp}),
                          seed, dataset(), dataset(), gan_options{})
                    : nullptr),
      weight_sram("weight_sram", pc.memory_for(rc.numerics)),
      mac("mac", rc.numerics == numerics_kind::fp32 ? pc.mac32 : pc.mac_mp),
      act_sram("act_sram", pc.activation_sram),
      offchip("dram", pc.dram),
      du("du", rc.numerics == numerics_kind::fp32 ? pc.du_digital32 : pc.du_digital_mp,
         net ? unit_workload(*net) : unit_workload(*machine),
         rc.numerics == numerics_kind::digital_mp, rc.batch, rc.learning_rate) {
  kind_ = rc.numerics == numerics_kind::fp32 ? "digital32" : "digital-mp";
  place_in_memory(w.layers, weight_sram, pc.memory_for(rc.numerics));
  place_inputs(w.layers, act_sram, rc, pc);
  du.sram_socket.bind(weight_sram.tgt_socket);
  du.mac_socket.bind(mac.tgt_socket);
  du.act_socket.bind(act_sram.tgt_socket);
  du.dram_socket.bind(offchip.tgt_socket);
  attribute_layers();
}

uint64_t on_chip_bits(const network_spec& net, const std::vector<bool>& off_chip,
                      int bits_per_entry) {
  uint64_t bits = 0;
  const std::vector<std::size_t> wl = net.weight_layers();
  for (std::size_t k = 0; k < wl.size(); ++k) {
    if (k < off_chip.size() && off_chip[k]) continue;
    bits +=
        static_cast<uint64_t>(net.layers[wl[k]].rows()) * net.layers[wl[k]].cols() * bits_per_entry;
  }
  return bits;
}

std::vector<bool> off_chip_layers(const network_spec& net, uint64_t capacity_bits,
                                  int bits_per_entry) {
  std::vector<bool> off;
  uint64_t used = 0;
  for (std::size_t i : net.weight_layers()) {
    const layer_spec& l = net.layers[i];
    const uint64_t bits = static_cast<uint64_t>(l.rows()) * l.cols() * bits_per_entry;
    const bool fits = capacity_bits == 0 || used + bits <= capacity_bits;
    if (fits) used += bits;
    off.push_back(!fits);
  }
  return off;
}

namespace {

const network_run_config& mca_checked(const network_run_config& rc) {
  checked(rc, "mca", {numerics_kind::mca});
  if (rc.mca.crossbar.synapse != synapse_kind::differential) {
    throw std::invalid_argument("the MCA platform models differential synapses only");
  }
  return rc;
}

// A tile of the platform's array with the run's converters and refresh,
// holding block b of weight layer k's devices (its functional tile's).
cm_tile* make_tile(const char* name, std::size_t k, std::size_t b, const network_run_config& rc,
                   const platform_config& pc, const unit_workload& work) {
  const mca_numerics& c = rc.mca;
  cm_tile_config tc = pc.tile;
  tc.pwm.forward = c.pwm_forward;
  tc.pwm.backward = c.pwm_backward;
  tc.adc.forward = c.adc_forward;
  tc.adc.backward = c.adc_backward;
  tc.array.refresh = c.refresh;
  const auto [net, j] = work.layer(k);
  return new cm_tile(name, tc, *net->analog(j), b, pc.tiles.rows, pc.tiles.cols);
}

std::vector<cm_tile*> tile_list(sc_core::sc_vector<cm_tile>& v) {
  std::vector<cm_tile*> out;
  for (cm_tile& t : v) out.push_back(&t);
  return out;
}

}  // namespace

mca_design::mca_design(const sc_core::sc_module_name& nm, const platform_workload& w,
                       const network_run_config& rc, const platform_config& pc, uint64_t seed)
    : design(nm),
      mapping(map_network(w.layers, pc.tiles, w.layers.steps(rc.bptt))),
      net(w.gan ? nullptr
                : std::make_unique<model>(w.layers, mca_checked(on_tiles(rc, pc.tiles)), seed)),
      machine(w.gan ? make_gan_machine(*w.gan, mca_checked(on_tiles(rc, pc.tiles)), seed, dataset(),
                                       dataset(), gan_options{})
                    : nullptr),
      tiles("tile"),
      data_bus("data_bus", pc.bus),
      chi_sram("chi_sram", pc.chi_sram),
      act_sram("act_sram", pc.activation_sram),
      offchip("dram", pc.dram) {
  // Tile j: the j-th block of the mapping (the layers in order).
  std::vector<std::pair<std::size_t, std::size_t>> blocks;  // (weight layer, block)
  for (std::size_t k = 0; k < mapping.layers.size(); ++k) {
    for (std::size_t b = 0; b < mapping.layers[k].blocks.size(); ++b) blocks.emplace_back(k, b);
  }
  const unit_workload work = net ? unit_workload(*net) : unit_workload(*machine);
  tiles.init(blocks.size(), [&](const char* name, std::size_t j) {
    return make_tile(name, blocks[j].first, blocks[j].second, rc, pc, work);
  });
  du = std::make_unique<mca_unit>("du", pc.du_mca, work, tile_list(tiles), rc.batch,
                                  rc.learning_rate);
  kind_ = "mca";
  place_in_memory(w.layers, chi_sram, pc.memory_for(rc.numerics));
  place_inputs(w.layers, act_sram, rc, pc);
  du->bus_socket.bind(data_bus.tgt_socket);
  du->sram_socket.bind(chi_sram.tgt_socket);
  du->act_socket.bind(act_sram.tgt_socket);
  du->dram_socket.bind(offchip.tgt_socket);
  attribute_layers();
  for (std::size_t k = 0; k < tiles.size(); ++k) {
    data_bus.init_socket.bind(tiles[k].tgt_socket);
    data_bus.map(k, k * cm_tile::addr_span, cm_tile::addr_span);
  }
}

std::string mca_design::part_of(const counted& module) const {
  const bool cm = dynamic_cast<const crossbar_array*>(&module) != nullptr ||
                  dynamic_cast<const pwm_dac*>(&module) != nullptr ||
                  dynamic_cast<const adc_bank*>(&module) != nullptr;
  return cm ? "computational memory" : "digital unit";
}

platform_workload::platform_workload(network_spec net) : layers(std::move(net)) {}

platform_workload::platform_workload(gan_spec g)
    : layers(hardware_layers(g)), gan(std::make_shared<const gan_spec>(std::move(g))) {}

std::unique_ptr<design> make_design(const std::string& name, const platform_workload& w,
                                    const network_run_config& rc, const platform_config& pc,
                                    uint64_t seed) {
  pc.validate();
  if (rc.numerics == numerics_kind::mca)
    return std::make_unique<mca_design>(name.c_str(), w, rc, pc, seed);
  return std::make_unique<digital_design>(name.c_str(), w, rc, pc, seed);
}

std::unique_ptr<design> make_design(const std::string& name, const experiment_config& exp,
                                    const platform_config& pc, uint64_t seed) {
  exp.validate();
  if (exp.machine != machine_kind::mca && exp.machine != machine_kind::digital) {
    throw std::invalid_argument("no platform design for experiment '" + exp.name + "'");
  }
  return make_design(name, perceptron_network(exp.mlp), engine_config(exp), pc, seed);
}

}  // namespace mcasim
