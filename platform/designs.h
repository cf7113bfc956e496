// The three designs of Table I as SystemC top-levels:
//   digital32   digital unit + 32-bit weight SRAM + 32-bit MAC array
//   digital-mp  digital unit + 32-bit weight SRAM + 4b x 8b MAC array
//   mca         digital unit + chi SRAM + 16-bit bus + CM tiles (tile_J: a
//               PWM DAC bank tile_J.pwm, a crossbar tile_J.array and an ADC
//               bank tile_J.adc), one per block of every weight layer on
//               platform.tiles (default: one tile per layer, its own size)
// Each trains a network (workloads/model.h) in the numerics that match it
// (fp32, digital-mp, mca), a batch per step; the design follows from the
// run's numerics. Their hardware parameters (platform_config) are the
// paper's designs; docs/table1.md explains each.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "platform/bus.h"
#include "platform/cm_tile.h"
#include "platform/digital_unit.h"
#include "platform/dram.h"
#include "platform/mac_array.h"
#include "platform/mapping.h"
#include "platform/sram.h"
#include "workloads/experiment.h"
#include "workloads/network_spec.h"
#include "workloads/trainable.h"

namespace mcasim {

// What a design trains: a network, or a GAN (both networks' weight layers
// on the hardware, the generator's first; a step trains both, as
// workloads/gan.h does). `layers` is the network, or the GAN's
// hardware_layers: what the mapping and the memories hold.
struct platform_workload {
  platform_workload(network_spec net);  // a network is a workload (implicit)
  explicit platform_workload(gan_spec g);
  network_spec layers;
  std::shared_ptr<const gan_spec> gan;  // null: a network
};

struct platform_config {
  digital_unit_config du_digital32, du_digital_mp, du_mca;
  sram_config weight_sram32, weight_sram_mp, chi_sram;
  mac_array_config mac32, mac_mp;
  bus_config bus;
  cm_tile_config tile;  // converter resolutions and refresh come from the experiment
  // The MCA's tiles (platform/mapping.h): fixed-size tiles, or one per
  // weight layer sized to it (the default, the Table I designs' chip).
  tile_array_config tiles;
  // Off-chip memory of every design: the weight layers (digital) or chi
  // entries (MCA) that do not fit in their SRAM's capacity_kib.
  dram_config dram;
  // Where the weight layers' inputs wait from the forward pass to the
  // update, in every design (a batch of them, 32-bit values in the 32-bit
  // design, 8-bit in the others): the layers in order fill the digital
  // unit's buffer (activation_buffer_kib; it holds the perceptron's, as the
  // Table I designs assume), then the activation SRAM (capacity_kib 0:
  // unbounded); a layer that fits in neither lives in DRAM.
  double activation_buffer_kib = 8.0;
  sram_config activation_sram;
  platform_config();
  void validate() const;
  // The SRAM holding the per-weight state of the design that computes in
  // `n`: the weights (fp32: weight_sram32, digital-mp: weight_sram_mp) or
  // chi (mca: chi_sram).
  const sram_config& memory_for(numerics_kind n) const;
};

class design : public sc_core::sc_module {
 public:
  explicit design(const sc_core::sc_module_name& nm) : sc_core::sc_module(nm) {}
  virtual digital_unit& unit() = 0;
  // "computational memory" or "digital unit" for a counted module (MCA parts).
  virtual std::string part_of(const counted& module) const;
  const std::string& design_kind() const { return kind_; }
  // Per weight layer: its weights (digital) or chi (MCA) live in DRAM.
  std::vector<bool> off_chip;
  void clear_all_counters();
  // Gives every counted module a track of `tl` (process: this design).
  void attach_timeline(timeline& tl);
  // Traces the digital unit's stage and image and every module's action
  // counters (per stage) into a VCD file, for images [first, last).
  void trace_vcd(sc_core::sc_trace_file* tf, uint64_t first, uint64_t last);

 protected:
  // Every counted module attributes its counts to the unit's current weight
  // layer (call once the modules exist).
  void attribute_layers();
  // Fills `memory` (configured as `cfg`) with the weight layers of `net` in
  // order; the ones that do not fit go to DRAM (off_chip, the unit's
  // place_off_chip).
  void place_in_memory(const network_spec& net, sram& memory, const sram_config& cfg);
  // Places the weight layers' inputs (activation_placement) for batches of
  // rc.batch and tells the unit and the activation SRAM.
  void place_inputs(const network_spec& net, sram& act_sram, const network_run_config& rc,
                    const platform_config& pc);
  std::string kind_;

 private:
  // VCD mirrors of the counters (refreshed by the unit inside the window).
  std::deque<double> vcd_values_;
  std::vector<const double*> vcd_sources_;
};

// A design computes every weight layer in its run's numerics: throws
// std::invalid_argument naming training.layers.NAME.numerics for a layer
// with numerics of its own that differ (mixed runs are functional).
void check_uniform_numerics(const network_run_config& rc, const std::string& design);

class digital_design : public design {
 public:
  // rc.numerics: fp32 (the 32-bit design) or digital-mp.
  digital_design(const sc_core::sc_module_name& nm, const platform_workload& w,
                 const network_run_config& rc, const platform_config& pc, uint64_t seed);
  digital_unit& unit() override { return du; }

  std::unique_ptr<model> net;          // the network the unit trains (null: a GAN)
  std::unique_ptr<trainable> machine;  // the GAN the unit trains (null: a network)
  sram weight_sram;
  mac_array mac;
  sram act_sram;  // the weight layers' inputs that do not fit in the unit's buffer
  dram offchip;   // the weight layers (and inputs) that do not fit on chip
  digital_design_unit du;
};

class mca_design : public design {
 public:
  // rc.numerics: mca, differential synapses.
  mca_design(const sc_core::sc_module_name& nm, const platform_workload& w,
             const network_run_config& rc, const platform_config& pc, uint64_t seed);
  digital_unit& unit() override { return *du; }
  std::string part_of(const counted& module) const override;

  network_mapping mapping;             // the weight layers' blocks on pc.tiles
  std::unique_ptr<model> net;          // the network the unit trains; its devices are the tiles'
  std::unique_ptr<trainable> machine;  // or the GAN (net null)
  sc_core::sc_vector<cm_tile> tiles;   // tile j: the mapping's j-th block
  bus data_bus;
  sram chi_sram;
  sram act_sram;  // the weight layers' inputs that do not fit in the unit's buffer
  dram offchip;   // the chi entries (and inputs) that do not fit on chip
  std::unique_ptr<mca_unit> du;
};

// Where the weight layers' inputs of a batch of `batch` samples (a
// recurrent network's: sequences of `bptt` steps, an input per step) wait
// for the update (platform_config::activation_buffer_kib) in the design
// that computes in `n`: 32 bits per input value for fp32, 8 for the others.
activation_placement place_activations(const network_spec& net, numerics_kind n, std::size_t batch,
                                       std::size_t bptt, const platform_config& pc);

// Which weight layers of `net` live off chip when their matrices (rows x
// cols entries of `bits_per_entry` bits) fill an SRAM of `capacity_bits`
// (0: unbounded) in layer order, a layer that does not fit in what is left
// going to DRAM whole.
std::vector<bool> off_chip_layers(const network_spec& net, uint64_t capacity_bits,
                                  int bits_per_entry);
// The bits of the weight layers not off chip (rows x cols x bits_per_entry each).
uint64_t on_chip_bits(const network_spec& net, const std::vector<bool>& off_chip,
                      int bits_per_entry);

// The design for a network and its run configuration (fp32: digital32,
// digital-mp, mca).
std::unique_ptr<design> make_design(const std::string& name, const platform_workload& w,
                                    const network_run_config& rc, const platform_config& pc,
                                    uint64_t seed);
// The design of an experiment: its perceptron in its numerics
// (workloads/network_train.h perceptron_network, engine_config).
std::unique_ptr<design> make_design(const std::string& name, const experiment_config& exp,
                                    const platform_config& pc, uint64_t seed);

}  // namespace mcasim
