// Module tests that call b_transport directly (no kernel run): delays and
// counters of the bus, SRAM, MAC array, PWM DAC bank, ADC bank and the
// computational-memory tile assembled from them; the technology table and
// the ledger.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include <systemc>

#include "platform/adc_bank.h"
#include "platform/bus.h"
#include "platform/cm_tile.h"
#include "platform/designs.h"
#include "platform/dram.h"
#include "platform/mac_array.h"
#include "platform/pwm_dac.h"
#include "platform/sram.h"
#include "power/ledger.h"
#include "power/technology.h"
#include "traces/timeline.h"

namespace mcasim {
namespace {

struct txn {
  tlm::tlm_generic_payload gp;
  mcasim_ext ext;
  txn(tlm::tlm_command cmd, uint64_t addr, void* data, std::size_t len, stage st) {
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(reinterpret_cast<unsigned char*>(data));
    gp.set_data_length(static_cast<unsigned>(len));
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    ext.st = st;
    gp.set_extension(&ext);
  }
  ~txn() { gp.clear_extension(&ext); }
};

TEST(bus, beats_and_delay_of_785_bytes_at_16_bits_2_ghz) {
  bus b("bus785", bus_config{});
  b.map(0, 0x0, 0x1000);  // mapped, not bound: the transfer ends at the bus
  std::vector<uint8_t> payload(785);
  txn t(tlm::TLM_WRITE_COMMAND, 0x10, payload.data(), payload.size(), stage::forward);
  t.ext.wire_bytes = 785;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  b.b_transport(t.gp, delay);
  EXPECT_EQ(t.gp.get_response_status(), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(bus::beats(785, 16), 393u);
  EXPECT_EQ(delay, sc_core::sc_time(196.5, sc_core::SC_NS));
  EXPECT_DOUBLE_EQ(b.counters().count(stage::forward, bus::beat), 393.0);
  EXPECT_DOUBLE_EQ(b.counters().count(stage::backward, bus::beat), 0.0);
  EXPECT_EQ(b.counters().busy_time(stage::forward), sc_core::sc_time(196.5, sc_core::SC_NS));
}

TEST(bus, unmapped_address_is_an_address_error) {
  bus b("bus_unmapped", bus_config{});
  b.map(0, 0x0, 0x1000);
  uint8_t byte = 0;
  txn t(tlm::TLM_WRITE_COMMAND, 0x5000, &byte, 1, stage::forward);
  t.ext.wire_bytes = 1;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  b.b_transport(t.gp, delay);
  EXPECT_EQ(t.gp.get_response_status(), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_THROW(b.map(1, 0x800, 0x1000), std::invalid_argument);
}

TEST(sram, banks_and_ports_divide_access_cycles) {
  sram_config cfg;
  cfg.banks = 4;
  cfg.ports = 1;
  cfg.latency_cycles = 1;
  sram m("chi_sram", cfg);
  txn t(tlm::TLM_READ_COMMAND, 0, nullptr, 0, stage::update);
  t.ext.ops = 2130;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  m.b_transport(t.gp, delay);
  // ceil(2130 / 4) + 1 = 534 cycles at 500 MHz = 1068 ns
  EXPECT_EQ(delay, sc_core::sc_time(1068, sc_core::SC_NS));
  EXPECT_DOUBLE_EQ(m.counters().count(stage::update, sram::read_word), 2130.0);
  EXPECT_DOUBLE_EQ(m.counters().count(stage::update, sram::write_word), 0.0);
  EXPECT_EQ(m.component(), "sram32");
}

TEST(mac_array, lanes_spread_the_reduction_dimension) {
  mac_array_config cfg;
  cfg.lanes_in = 64;
  cfg.pipeline_cycles = 2;
  mac_array mac("mac", cfg);
  EXPECT_EQ(mac.cycles(250, 785), 250u * 13u + 2u);
  EXPECT_EQ(mac.cycles(250, 10), 252u);  // only 10 terms: one cycle per output
  mac_array_config grid = cfg;
  grid.lanes_in = 16;
  grid.lanes_out = 4;
  mac_array mac2("mac_grid", grid);
  EXPECT_EQ(mac2.cycles(250, 785), 63u * 50u + 2u);
  EXPECT_EQ(mac2.cycles(250, 10), 63u + 2u);
  txn t(tlm::TLM_WRITE_COMMAND, 0, nullptr, 0, stage::backward);
  t.ext.n_out = 250;
  t.ext.n_in = 10;
  t.ext.ops = 2500;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  mac.b_transport(t.gp, delay);
  EXPECT_EQ(delay, sc_core::sc_time(504, sc_core::SC_NS));
  EXPECT_DOUBLE_EQ(mac.counters().count(stage::backward, mac_array::mac), 2500.0);
  EXPECT_EQ(mac.counters().action_names()[0], "mac_32x32");
}

quantizer_config converter(int bits, bool is_signed) {
  quantizer_config q;
  q.ideal = false;
  q.bits = bits;
  q.is_signed = is_signed;
  return q;
}

const sc_core::sc_time k_2ghz(0.5, sc_core::SC_NS);

// Drives `n` values through a converter bank (PWM: inputs, ADC: outputs);
// returns the delay it adds, or SC_ZERO_TIME with the status in `status`.
template <class bank>
sc_core::sc_time convert(bank& b, uint64_t addr, std::size_t n, stage st,
                         tlm::tlm_response_status* status = nullptr) {
  txn t(tlm::TLM_WRITE_COMMAND, addr, nullptr, 0, st);
  t.ext.n_in = n;
  t.ext.n_out = n;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  b.b_transport(t.gp, delay);
  if (status) *status = t.gp.get_response_status();
  return delay;
}

// One DAC per line: every input in one window of 2^bits cycles.
TEST(pwm_dac, one_window_of_2_to_the_bits_cycles_and_conversions_by_resolution) {
  pwm_dac_config cfg;
  cfg.forward = converter(8, false);
  cfg.backward = converter(4, true);
  pwm_dac pwm("pwm_solo", cfg, 785, k_2ghz);
  EXPECT_EQ(pwm.converters(), 785u);
  // 785 inputs, 8 bits: one window of 256 cycles at 2 GHz = 128 ns.
  EXPECT_EQ(convert(pwm, pwm_dac::addr_forward, 785, stage::forward),
            sc_core::sc_time(128, sc_core::SC_NS));
  EXPECT_DOUBLE_EQ(pwm.counters().count(stage::forward, pwm_dac::conversion), 785.0);
  EXPECT_EQ(pwm.counters().busy_time(stage::forward), sc_core::sc_time(128, sc_core::SC_NS));
  // 10 inputs, 4 bits: 16 cycles = 8 ns; each conversion counts 2^(4-8).
  EXPECT_EQ(convert(pwm, pwm_dac::addr_backward, 10, stage::backward),
            sc_core::sc_time(8, sc_core::SC_NS));
  EXPECT_DOUBLE_EQ(pwm.counters().count(stage::backward, pwm_dac::conversion), 10.0 / 16);
  EXPECT_DOUBLE_EQ(pwm.window_weight(false), 1.0);
  EXPECT_DOUBLE_EQ(pwm.window_weight(true), 1.0 / 16);
  EXPECT_EQ(pwm.counters().action_names()[0], "conversion");
  EXPECT_EQ(pwm.component(), "pwm_dac");
  // An ideal converter counts as 8 bits.
  pwm_dac_config ideal;
  pwm_dac pi("pwm_ideal", ideal, 4, k_2ghz);
  EXPECT_EQ(pi.window(false), sc_core::sc_time(128, sc_core::SC_NS));
}

// Fewer DACs than inputs: groups of inputs in turn, one window each; a
// longer level stretches the window (and its read weight).
TEST(pwm_dac, fewer_converters_drive_inputs_in_turn_and_level_length_stretches_the_window) {
  pwm_dac_config cfg;
  cfg.forward = converter(8, false);
  cfg.converters = 100;
  cfg.cycles_per_level = 2;
  pwm_dac pwm("pwm_shared", cfg, 785, k_2ghz);
  // ceil(785 / 100) = 8 windows x 256 levels x 2 cycles x 0.5 ns = 2048 ns.
  EXPECT_EQ(convert(pwm, pwm_dac::addr_forward, 785, stage::forward),
            sc_core::sc_time(2048, sc_core::SC_NS));
  EXPECT_DOUBLE_EQ(pwm.counters().count(stage::forward, pwm_dac::conversion), 785.0);
  EXPECT_DOUBLE_EQ(pwm.window_weight(false), 2.0);
  // 100 inputs: one window.
  EXPECT_EQ(convert(pwm, pwm_dac::addr_forward, 100, stage::forward),
            sc_core::sc_time(256, sc_core::SC_NS));
  // No inputs: no time.
  EXPECT_EQ(convert(pwm, pwm_dac::addr_forward, 0, stage::forward), sc_core::SC_ZERO_TIME);
}

TEST(pwm_dac, bad_transactions_are_error_responses) {
  pwm_dac pwm("pwm_errors", pwm_dac_config{}, 4, k_2ghz);
  tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
  EXPECT_EQ(convert(pwm, pwm_dac::addr_forward, 5, stage::forward, &status), sc_core::SC_ZERO_TIME);
  EXPECT_EQ(status, tlm::TLM_BURST_ERROR_RESPONSE);  // more inputs than lines
  convert(pwm, 0x20, 1, stage::forward, &status);
  EXPECT_EQ(status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  txn rd(tlm::TLM_READ_COMMAND, pwm_dac::addr_forward, nullptr, 0, stage::forward);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  pwm.b_transport(rd.gp, delay);
  EXPECT_EQ(rd.gp.get_response_status(), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_DOUBLE_EQ(pwm.counters().count(stage::forward, pwm_dac::conversion), 0.0);
}

// Expects `f` to throw std::invalid_argument whose message contains `field`.
template <class F>
void expect_rejected(F f, const std::string& field) {
  try {
    f();
    ADD_FAILURE() << "accepted; expected an error naming " << field;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

// A DRAM transfer: the latency once, then the bits at the bandwidth; its
// bits are counted by direction; a bad configuration names the field.
TEST(dram, transfer_is_latency_plus_bits_over_bandwidth) {
  dram_config cfg;
  cfg.bandwidth_gbps = 25.6;
  cfg.latency_ns = 40.0;
  dram m("dram", cfg);
  txn t(tlm::TLM_READ_COMMAND, 0, nullptr, 0, stage::forward);
  t.ext.ops = 1000;  // 32-bit words
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  m.b_transport(t.gp, delay);
  // 40 ns + 4,000 bytes / 25.6 bytes per ns = 196.25 ns
  EXPECT_EQ(delay, sc_core::sc_time(196.25, sc_core::SC_NS));
  EXPECT_DOUBLE_EQ(m.counters().count(stage::forward, dram::read_bit), 32000.0);
  txn w(tlm::TLM_WRITE_COMMAND, 0, nullptr, 0, stage::update);
  w.ext.ops = 10;
  w.ext.precision_bits = 16;
  m.b_transport(w.gp, delay);
  EXPECT_DOUBLE_EQ(m.counters().count(stage::update, dram::write_bit), 160.0);
  EXPECT_EQ(m.component(), "dram");
  cfg.bandwidth_gbps = 0;
  expect_rejected([&] { cfg.validate(); }, "platform.dram.bandwidth_gbps");
  cfg = dram_config{};
  cfg.latency_ns = -1;
  expect_rejected([&] { cfg.validate(); }, "platform.dram.latency_ns");
  sram_config s;
  s.capacity_kib = -1;
  expect_rejected([&] { s.validate(); }, "sram.capacity_kib");
  // In the platform's tree, the key names which module of the designs.
  platform_config pc;
  pc.chi_sram.banks = 0;
  expect_rejected([&] { pc.validate(); }, "platform.chi_sram: sram.banks must be >= 1");
  pc = platform_config{};
  pc.activation_sram.capacity_kib = -1;
  expect_rejected([&] { pc.validate(); }, "platform.activation_sram: sram.capacity_kib");
  pc = platform_config{};
  pc.du_mca.partial_sum_lanes = 0;
  expect_rejected([&] { pc.validate(); },
                  "platform.du_mca: digital_unit.partial_sum_lanes must be >= 1, got 0");
  pc = platform_config{};
  pc.activation_buffer_kib = -1;
  expect_rejected([&] { pc.validate(); }, "platform.activation_buffer_kib must be >= 0");
  pc = platform_config{};
  pc.tiles.rows = 70000;
  expect_rejected([&] { pc.validate(); }, "platform.tiles.rows must be in [0, 65536]");
}

// Weight layers fill an SRAM in order; one that does not fit goes to DRAM
// whole, and a later one that fits stays on chip.
TEST(designs, weight_layers_beyond_the_sram_capacity_live_off_chip) {
  const network_spec net = parse_network(nlohmann::json::parse(R"({"input": [784], "layers": [
      {"kind": "dense", "name": "a", "units": 250}, {"kind": "relu"},
      {"kind": "dense", "name": "b", "units": 100}, {"kind": "relu"},
      {"kind": "dense", "name": "c", "units": 10}, {"kind": "cross_entropy"}]})"),
                                         "test");
  // a: 785 x 250 x 32 bits = 6,280,000; b: 251 x 100 x 32 = 803,200; c: 101 x 10 x 32 = 32,320
  EXPECT_EQ(off_chip_layers(net, 0, 32), (std::vector<bool>{false, false, false}));
  EXPECT_EQ(off_chip_layers(net, 7'200'000, 32), (std::vector<bool>{false, false, false}));
  EXPECT_EQ(off_chip_layers(net, 6'320'000, 32), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(off_chip_layers(net, 1'000'000, 32), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(off_chip_layers(net, 10'000, 32), (std::vector<bool>{true, true, true}));
  sram_config s;
  s.capacity_kib = 2;
  EXPECT_EQ(s.capacity_bits(), 16384u);
}

TEST(pwm_dac, bad_configuration_names_the_field) {
  pwm_dac_config c;
  c.converters = -1;
  expect_rejected([&] { c.validate("cm_tile.pwm"); }, "cm_tile.pwm.converters");
  c = pwm_dac_config{};
  c.cycles_per_level = 0;
  expect_rejected([&] { c.validate("cm_tile.pwm"); }, "cm_tile.pwm.cycles_per_level");
  c = pwm_dac_config{};
  c.forward = converter(0, false);
  expect_rejected([&] { c.validate("cm_tile.pwm"); }, "cm_tile.pwm.forward.bits");
  // The module checks its configuration with its own name.
  c = pwm_dac_config{};
  c.converters = -3;
  expect_rejected([&] { pwm_dac p("pwm_bad", c, 4, k_2ghz); }, "pwm_bad.converters");
}

// One ADC per line: all outputs in one round of cycles_per_conversion.
TEST(adc_bank, one_per_line_converts_all_outputs_in_one_round) {
  adc_bank_config cfg;
  cfg.forward = converter(8, true);
  cfg.backward = converter(6, true);
  adc_bank adc("adc_solo", cfg, 785, k_2ghz);
  EXPECT_EQ(adc.converters(), 785u);
  EXPECT_EQ(convert(adc, adc_bank::addr_forward, 250, stage::forward),
            sc_core::sc_time(1, sc_core::SC_NS));  // 2 cycles at 2 GHz
  EXPECT_DOUBLE_EQ(adc.counters().count(stage::forward, adc_bank::conversion), 250.0);
  EXPECT_EQ(adc.counters().busy_time(stage::forward), sc_core::sc_time(1, sc_core::SC_NS));
  // 6 bits: each conversion counts 2^(6-8) = 1/4.
  EXPECT_EQ(convert(adc, adc_bank::addr_backward, 250, stage::backward),
            sc_core::sc_time(1, sc_core::SC_NS));
  EXPECT_DOUBLE_EQ(adc.counters().count(stage::backward, adc_bank::conversion), 250.0 / 4);
  EXPECT_EQ(adc.component(), "adc_bank");
}

// Multiplexed columns convert in turn: ceil(n / converters) rounds.
TEST(adc_bank, multiplexed_columns_convert_in_turn) {
  adc_bank_config cfg;
  cfg.columns_per_adc = 4;
  adc_bank adc("adc_mux4", cfg, 250, k_2ghz);
  EXPECT_EQ(adc.converters(), 63u);  // ceil(250 / 4)
  // 250 outputs: ceil(250 / 63) = 4 rounds x 2 cycles x 0.5 ns.
  EXPECT_EQ(convert(adc, adc_bank::addr_forward, 250, stage::forward),
            sc_core::sc_time(4, sc_core::SC_NS));
  // 10 outputs: one round.
  EXPECT_EQ(convert(adc, adc_bank::addr_forward, 10, stage::forward),
            sc_core::sc_time(1, sc_core::SC_NS));
  EXPECT_DOUBLE_EQ(adc.counters().count(stage::forward, adc_bank::conversion), 260.0);
  // 16 ADCs behind 16:1 multiplexers, 3 cycles: ceil(250 / 16) = 16 rounds = 24 ns.
  adc_bank_config few;
  few.converters = 16;
  few.columns_per_adc = 16;
  few.cycles_per_conversion = 3;
  adc_bank adc16("adc_16", few, 250, k_2ghz);
  EXPECT_EQ(convert(adc16, adc_bank::addr_forward, 250, stage::forward),
            sc_core::sc_time(24, sc_core::SC_NS));
  tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
  convert(adc16, adc_bank::addr_forward, 251, stage::forward, &status);
  EXPECT_EQ(status, tlm::TLM_BURST_ERROR_RESPONSE);  // more outputs than lines
}

TEST(adc_bank, bad_configuration_names_the_field) {
  adc_bank_config c;
  c.converters = -1;
  expect_rejected([&] { c.validate("cm_tile.adc"); }, "cm_tile.adc.converters");
  c = adc_bank_config{};
  c.columns_per_adc = 0;
  expect_rejected([&] { c.validate("cm_tile.adc"); }, "cm_tile.adc.columns_per_adc");
  c = adc_bank_config{};
  c.cycles_per_conversion = -1;
  expect_rejected([&] { c.validate("cm_tile.adc"); }, "cm_tile.adc.cycles_per_conversion");
  c = adc_bank_config{};
  c.backward = converter(40, true);
  expect_rejected([&] { c.validate("cm_tile.adc"); }, "cm_tile.adc.backward.bits");
  // 16 ADCs x 8:1 multiplexers reach 128 of 250 lines.
  c = adc_bank_config{};
  c.converters = 16;
  c.columns_per_adc = 8;
  expect_rejected([&] { adc_bank a("adc_short", c, 250, k_2ghz); },
                  "adc_short.converters x columns_per_adc = 16 x 8");
}

std::unique_ptr<crossbar> small_array(bool noise) {
  pcm_params p;
  p.read_noise = noise;
  crossbar_config c;
  auto x = std::make_unique<crossbar>(4, 3, c, p, 7, 0);
  x->initialize(0.0);
  return x;
}

TEST(cm_tile, forward_mvm_matches_the_crossbar_and_counts_conversions) {
  cm_tile_config cfg;
  cm_tile tile("tile_fwd", cfg, small_array(false));
  // The converter banks are child modules of the tile.
  EXPECT_STREQ(tile.pwm.name(), "tile_fwd.pwm");
  EXPECT_STREQ(tile.adc.name(), "tile_fwd.adc");
  EXPECT_EQ(tile.pwm.get_parent_object(), &tile);
  EXPECT_EQ(tile.adc.get_parent_object(), &tile);
  EXPECT_STREQ(tile.array.name(), "tile_fwd.array");
  EXPECT_EQ(tile.array.get_parent_object(), &tile);
  std::vector<float> x{0.5f, 0.0f, 1.0f, 0.25f};
  txn in(tlm::TLM_WRITE_COMMAND, cm_tile::addr_input, x.data(), 16, stage::forward);
  in.ext.n_in = 4;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  tile.b_transport(in.gp, delay);
  EXPECT_EQ(delay, sc_core::SC_ZERO_TIME);
  txn mvm(tlm::TLM_WRITE_COMMAND, cm_tile::addr_mvm, nullptr, 0, stage::forward);
  tile.b_transport(mvm.gp, delay);
  // PWM window 2^8 cycles + one ADC round of 2 cycles at 2 GHz = 129 ns,
  // each part busy for its own share, the tile (the crossbar, read during
  // the window) for none.
  EXPECT_EQ(delay, sc_core::sc_time(129, sc_core::SC_NS));
  EXPECT_EQ(tile.pwm.counters().busy_time(stage::forward), sc_core::sc_time(128, sc_core::SC_NS));
  EXPECT_EQ(tile.adc.counters().busy_time(stage::forward), sc_core::sc_time(1, sc_core::SC_NS));
  EXPECT_EQ(tile.array.counters().busy_time(stage::forward), sc_core::SC_ZERO_TIME);
  std::vector<float> y(3);
  txn out(tlm::TLM_READ_COMMAND, cm_tile::addr_output, y.data(), 12, stage::forward);
  tile.b_transport(out.gp, delay);
  for (std::size_t c = 0; c < 3; ++c) {
    float ref = 0.0f;
    for (std::size_t r = 0; r < 4; ++r) ref += x[r] * tile.devices().weight(r, c);
    EXPECT_NEAR(y[c], ref, 1e-5f);
  }
  EXPECT_DOUBLE_EQ(tile.pwm.counters().count(stage::forward, pwm_dac::conversion), 4.0);
  EXPECT_DOUBLE_EQ(tile.adc.counters().count(stage::forward, adc_bank::conversion), 3.0);
  // duty 0.5 + 0 + 1 + 0.25 = 1.75 windows x 3 columns x 2 devices
  EXPECT_DOUBLE_EQ(tile.array.counters().count(stage::forward, crossbar_array::device_read), 10.5);
}

TEST(cm_tile, converter_counts_and_window_scale_with_resolution) {
  cm_tile_config cfg;
  for (quantizer_config* q : {&cfg.pwm.forward, &cfg.adc.forward}) {
    q->ideal = false;
    q->bits = 4;
    q->is_signed = q == &cfg.adc.forward;
    q->range = 16.0;
  }
  cm_tile tile("tile_4bit", cfg, small_array(false));
  std::vector<float> x{1.0f, 0.0f, 1.0f, 1.0f};
  txn in(tlm::TLM_WRITE_COMMAND, cm_tile::addr_input, x.data(), 16, stage::forward);
  in.ext.n_in = 4;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  tile.b_transport(in.gp, delay);
  txn mvm(tlm::TLM_WRITE_COMMAND, cm_tile::addr_mvm, nullptr, 0, stage::forward);
  tile.b_transport(mvm.gp, delay);
  // 4-bit: each conversion and read window counts 2^(4-8) = 1/16 of an 8-bit one.
  EXPECT_DOUBLE_EQ(tile.pwm.counters().count(stage::forward, pwm_dac::conversion), 4.0 / 16);
  EXPECT_DOUBLE_EQ(tile.adc.counters().count(stage::forward, adc_bank::conversion), 3.0 / 16);
  // x = 1 is one 4-bit step (16/15) of the 16.0 full scale: 3 inputs x (16/15)/16 duty x
  // 3 columns x 2 devices, in 8-bit windows (/16)
  EXPECT_NEAR(tile.array.counters().count(stage::forward, crossbar_array::device_read),
              3 * (16.0 / 15) / 16 * 3 * 2 / 16, 1e-6);
  // The window is 2^4 cycles, plus one ADC round of 2 cycles, at 2 GHz.
  EXPECT_EQ(delay, sc_core::sc_time(9, sc_core::SC_NS));
}

// The tile's timing from its parts: 2 DACs for 4 rows and one ADC behind a
// 4:1 multiplexer. Forward: 4 inputs in ceil(4 / 2) = 2 windows (2 x 128 ns),
// then 3 outputs in turn (3 x 1 ns) = 259 ns. Backward (3 inputs on the
// columns, 4 outputs on the rows): 2 windows + 4 rounds = 260 ns.
TEST(cm_tile, mvm_time_is_the_pwm_windows_then_the_adc_rounds) {
  cm_tile_config cfg;
  cfg.pwm.converters = 2;
  cfg.adc.converters = 1;
  cfg.adc.columns_per_adc = 4;
  cm_tile tile("tile_shared", cfg, small_array(false));
  std::vector<float> x{0.5f, 0.0f, 1.0f, 0.25f};
  txn in(tlm::TLM_WRITE_COMMAND, cm_tile::addr_input, x.data(), 16, stage::forward);
  in.ext.n_in = 4;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  tile.b_transport(in.gp, delay);
  txn mvm(tlm::TLM_WRITE_COMMAND, cm_tile::addr_mvm, nullptr, 0, stage::forward);
  tile.b_transport(mvm.gp, delay);
  EXPECT_EQ(delay, sc_core::sc_time(259, sc_core::SC_NS));
  EXPECT_EQ(tile.pwm.counters().busy_time(stage::forward), sc_core::sc_time(256, sc_core::SC_NS));
  EXPECT_EQ(tile.adc.counters().busy_time(stage::forward), sc_core::sc_time(3, sc_core::SC_NS));
  std::vector<float> e{0.5f, -0.25f, 1.0f};
  txn bin(tlm::TLM_WRITE_COMMAND, cm_tile::addr_input, e.data(), 12, stage::backward);
  bin.ext.n_in = 3;
  delay = sc_core::SC_ZERO_TIME;
  tile.b_transport(bin.gp, delay);
  txn mvm_t(tlm::TLM_WRITE_COMMAND, cm_tile::addr_mvm_t, nullptr, 0, stage::backward);
  mvm_t.ext.n_out = 4;
  tile.b_transport(mvm_t.gp, delay);
  EXPECT_EQ(mvm_t.gp.get_response_status(), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(delay, sc_core::sc_time(260, sc_core::SC_NS));
  EXPECT_DOUBLE_EQ(tile.pwm.counters().count(stage::backward, pwm_dac::conversion), 3.0);
  EXPECT_DOUBLE_EQ(tile.adc.counters().count(stage::backward, adc_bank::conversion), 4.0);
  // More outputs than the tile has lines: a burst error, nothing counted.
  txn wide(tlm::TLM_WRITE_COMMAND, cm_tile::addr_mvm_t, nullptr, 0, stage::backward);
  wide.ext.n_out = 5;
  tile.b_transport(wide.gp, delay);
  EXPECT_EQ(wide.gp.get_response_status(), tlm::TLM_BURST_ERROR_RESPONSE);
  EXPECT_DOUBLE_EQ(tile.adc.counters().count(stage::backward, adc_bank::conversion), 4.0);
}

// A tile's converter configuration is checked under the tile's name.
TEST(cm_tile, bad_converter_configuration_names_the_tile_field) {
  cm_tile_config cfg;
  cfg.adc.columns_per_adc = 0;
  expect_rejected([&] { cm_tile t("tile_bad_adc", cfg, small_array(false)); },
                  "cm_tile.adc.columns_per_adc");
  cfg = cm_tile_config{};
  cfg.pwm.cycles_per_level = 0;
  expect_rejected([&] { cm_tile t("tile_bad_pwm", cfg, small_array(false)); },
                  "cm_tile.pwm.cycles_per_level");
  platform_config pc;
  pc.tile.adc.converters = -2;
  expect_rejected([&] { pc.validate(); }, "cm_tile.adc.converters");
  // Two ADCs behind 1:1 multiplexers cannot reach the 4 rows of the array.
  cfg = cm_tile_config{};
  cfg.adc.converters = 2;
  expect_rejected([&] { cm_tile t("tile_few_adcs", cfg, small_array(false)); },
                  "tile_few_adcs.adc.converters x columns_per_adc = 2 x 1");
}

// The crossbar array on its own, driven directly: the read of a product's
// codes counts duty-weighted device reads and takes no time (it happens
// during the PWM window); programming counts its pulses and takes their
// pulse time; a bad command or operand is an error response with nothing
// counted.
TEST(crossbar_array, reads_and_programming_on_its_own) {
  crossbar_array_config cfg;
  cfg.pulse_ns = 40;
  cfg.parallel_programming = 2;
  crossbar_array a("array_alone", cfg, small_array(false));
  EXPECT_EQ(a.component(), "crossbar");
  EXPECT_EQ(a.devices_per_weight(), 2u);
  std::vector<float> x{0.5f, 0.0f, 1.0f, 0.25f};
  array_io io{x.data(), 1.0, 2.0};  // full scale 1, a window of two 8-bit windows
  txn mvm(tlm::TLM_WRITE_COMMAND, crossbar_array::addr_mvm, &io, sizeof io, stage::forward);
  sc_core::sc_time delay(7, sc_core::SC_NS);
  a.b_transport(mvm.gp, delay);
  ASSERT_EQ(mvm.gp.get_response_status(), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(delay, sc_core::sc_time(7, sc_core::SC_NS));
  // duty 1.75 x 3 columns x 2 devices x 2 windows
  EXPECT_DOUBLE_EQ(a.counters().count(stage::forward, crossbar_array::device_read), 21.0);
  // Transposed: 3 column inputs, 2 of the 4 rows out.
  std::vector<float> e{1.0f, -0.5f, 0.0f};
  io = array_io{e.data(), 1.0, 1.0};
  txn back(tlm::TLM_WRITE_COMMAND, crossbar_array::addr_mvm_t, &io, sizeof io, stage::backward);
  back.ext.n_out = 2;
  a.b_transport(back.gp, delay);
  ASSERT_EQ(back.gp.get_response_status(), tlm::TLM_OK_RESPONSE);
  // duty 1.5 x 2 rows x 2 devices
  EXPECT_DOUBLE_EQ(a.counters().count(stage::backward, crossbar_array::device_read), 6.0);
  // An all-zero input (full scale 0) reads nothing.
  io = array_io{e.data(), 0.0, 1.0};
  a.b_transport(back.gp, delay);
  ASSERT_EQ(back.gp.get_response_status(), tlm::TLM_OK_RESPONSE);
  EXPECT_DOUBLE_EQ(a.counters().count(stage::backward, crossbar_array::device_read), 6.0);
  // Five pulses, two at a time: ceil(5 / 2) x 40 ns.
  std::vector<pulse_cmd> pulses{{0, 0, 2}, {1, 2, -3}};
  txn prog(tlm::TLM_WRITE_COMMAND, crossbar_array::addr_program, pulses.data(),
           pulses.size() * sizeof(pulse_cmd), stage::update);
  prog.ext.ops = pulses.size();
  delay = sc_core::SC_ZERO_TIME;
  a.b_transport(prog.gp, delay);
  ASSERT_EQ(prog.gp.get_response_status(), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(delay, sc_core::sc_time(120, sc_core::SC_NS));
  EXPECT_DOUBLE_EQ(a.counters().count(stage::update, crossbar_array::set_pulse), 5.0);
  EXPECT_EQ(a.counters().busy_time(stage::update), sc_core::sc_time(120, sc_core::SC_NS));
  // More output rows than the array has, a wrong operand size, an unknown address.
  back.ext.n_out = 5;
  back.gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  a.b_transport(back.gp, delay);
  EXPECT_EQ(back.gp.get_response_status(), tlm::TLM_BURST_ERROR_RESPONSE);
  txn small(tlm::TLM_WRITE_COMMAND, crossbar_array::addr_mvm, &io, sizeof io - 1, stage::forward);
  a.b_transport(small.gp, delay);
  EXPECT_EQ(small.gp.get_response_status(), tlm::TLM_BURST_ERROR_RESPONSE);
  txn bad(tlm::TLM_WRITE_COMMAND, 0x90, nullptr, 0, stage::forward);
  a.b_transport(bad.gp, delay);
  EXPECT_EQ(bad.gp.get_response_status(), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_DOUBLE_EQ(a.counters().count(stage::forward, crossbar_array::device_read), 21.0);
  EXPECT_DOUBLE_EQ(a.counters().count(stage::backward, crossbar_array::device_read), 6.0);
}

TEST(crossbar_array, bad_configuration_names_the_field) {
  crossbar_array_config c;
  c.pulse_ns = -1;
  expect_rejected([&] { c.validate("cm_tile.array"); }, "cm_tile.array.pulse_ns");
  c = crossbar_array_config{};
  c.parallel_programming = 0;
  expect_rejected([&] { crossbar_array a("array_bad", c, small_array(false)); },
                  "array_bad.parallel_programming");
  cm_tile_config t;
  t.array.pulse_ns = -5;
  expect_rejected([&] { t.validate(); }, "cm_tile.array.pulse_ns");
  expect_rejected([&] { crossbar_array a("array_empty", crossbar_array_config{}, nullptr); },
                  "array_empty: no device array");
}

TEST(cm_tile, programming_counts_pulses_and_takes_pulse_time) {
  cm_tile_config cfg;
  cm_tile tile("tile_prog", cfg, small_array(false));
  const float w0 = tile.devices().weight(1, 2);
  std::vector<pulse_cmd> cmds{{1, 2, 2}, {0, 0, -1}};
  txn t(tlm::TLM_WRITE_COMMAND, cm_tile::addr_program, cmds.data(), cmds.size() * sizeof(pulse_cmd),
        stage::update);
  t.ext.ops = cmds.size();
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  tile.b_transport(t.gp, delay);
  EXPECT_DOUBLE_EQ(tile.array.counters().count(stage::update, crossbar_array::set_pulse), 3.0);
  EXPECT_EQ(delay, sc_core::sc_time(150, sc_core::SC_NS));  // 3 pulses x 50 ns, one at a time
  EXPECT_NE(tile.devices().weight(1, 2), w0);
}

// Conductance reads. Each cell is programmed to a hand-chosen pair (no drift
// at t = 0); one read of a device is G + sigma(G) z, z ~ N(0, 1), with
// sigma(G) = read_noise_rel G + read_noise_abs = 0.03 G + 0.13 uS
// (models/pcm_device.h, read_sigma), one independent draw per device. So the
// read weight (Gp' - Gn') / 8 uS differs from the cached (Gp - Gn) / 8 uS by
// a Gaussian of standard deviation sqrt(sigma(Gp)^2 + sigma(Gn)^2) / 8 uS,
// and each device read differs from its conductance by sigma(G) z. The bound
// is 5 of those standard deviations (two-sided tail 5.7e-7 per comparison,
// 36 comparisons: 2e-5 for a seed; the stream is seeded, so the outcome is
// fixed). Every pair differs by >= 3.5 uS, so reading Gp for Gn (a swapped
// pair) is off by 2 |Gp - Gn| / 8 >= 0.875, against at most 5 x sqrt(0.49^2 +
// 0.25^2) / 8 = 0.34 for the widest pair (12, 4) uS.
TEST(cm_tile, conductance_reads_return_noisy_device_pairs_without_perturbing_training) {
  pcm_params p;  // read noise on
  crossbar_config c;
  auto array = std::make_unique<crossbar>(4, 3, c, p, 7, 0);
  array->initialize(0.0);
  const float pairs[12][2] = {{0.5f, 4.0f}, {6.0f, 1.0f}, {2.0f, 8.0f}, {9.0f, 3.0f},
                              {1.5f, 5.0f}, {7.0f, 2.5f}, {3.0f, 10.f}, {12.f, 4.0f},
                              {0.8f, 6.0f}, {5.0f, 0.5f}, {2.5f, 9.0f}, {11.f, 6.0f}};
  for (std::size_t k = 0; k < 12; ++k) {
    array->positive().program_to(k, pairs[k][0], 0.0);
    array->negative().program_to(k, pairs[k][1], 0.0);
  }
  array->sync(0.0);
  cm_tile tile("tile_read", cm_tile_config{}, std::move(array));
  const std::vector<float> w_before = tile.devices().weights();
  std::vector<float> g(2 * 12);
  txn t(tlm::TLM_READ_COMMAND, cm_tile::addr_read_g, g.data(), g.size() * sizeof(float),
        stage::forward);
  t.ext.n_in = 0;
  t.ext.ops = 12;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  tile.b_transport(t.gp, delay);
  ASSERT_EQ(t.gp.get_response_status(), tlm::TLM_OK_RESPONSE);
  auto sigma = [](double g_us) { return 0.03 * g_us + 0.13; };
  for (std::size_t k = 0; k < 12; ++k) {
    const double gp = pairs[k][0], gn = pairs[k][1];
    EXPECT_NEAR(g[2 * k], gp, 5 * sigma(gp)) << "cell " << k << " Gp";
    EXPECT_NEAR(g[2 * k + 1], gn, 5 * sigma(gn)) << "cell " << k << " Gn";
    const double w = (g[2 * k] - g[2 * k + 1]) / 8.0;
    const double sigma_w = std::hypot(sigma(gp), sigma(gn)) / 8.0;
    EXPECT_FLOAT_EQ(tile.devices().weight(k / 3, k % 3), static_cast<float>((gp - gn) / 8.0));
    EXPECT_NEAR(w, tile.devices().weight(k / 3, k % 3), 5 * sigma_w) << "cell " << k;
  }
  EXPECT_EQ(tile.devices().weights(), w_before);  // observing does not program
  EXPECT_DOUBLE_EQ(tile.array.counters().count(stage::forward, crossbar_array::device_read), 24.0);
  // One device at a time: a full 8-bit window and one conversion each,
  // 24 x (128 + 1) ns.
  EXPECT_DOUBLE_EQ(tile.pwm.counters().count(stage::forward, pwm_dac::conversion), 24.0);
  EXPECT_DOUBLE_EQ(tile.adc.counters().count(stage::forward, adc_bank::conversion), 24.0);
  EXPECT_EQ(delay, 24.0 * sc_core::sc_time(129, sc_core::SC_NS));
  // Out-of-range reads are a burst error, not a crash.
  txn bad(tlm::TLM_READ_COMMAND, cm_tile::addr_read_g, g.data(), g.size() * sizeof(float),
          stage::forward);
  bad.ext.n_in = 10;
  bad.ext.ops = 12;
  tile.b_transport(bad.gp, delay);
  EXPECT_EQ(bad.gp.get_response_status(), tlm::TLM_BURST_ERROR_RESPONSE);
}

// The refresh address without a kernel: rows [n_in, n_out) are checked by
// the rule of models/crossbar.h (max(Gp, Gn) > 8 uS and |Gp - Gn| < 6 uS:
// RESET both, then min(3, round(|Gp - Gn| / 0.77 uS)) SET pulses on the
// larger device); the tile counts the RESETs and SETs in the stage of the
// transaction and takes 50 ns per pulse, `parallel_programming` at a time.
TEST(cm_tile, refresh_address_checks_the_given_rows_and_counts_pulses_and_time) {
  for (int parallel : {1, 3}) {
    pcm_params p;
    p.read_noise = false;
    p.drift = false;
    auto array = std::make_unique<crossbar>(4, 3, crossbar_config{}, p, 7, 0);
    array->initialize(0.0);
    // (row, col, Gp, Gn): rows 1-2 hold one cell that must be refreshed and
    // one that must not; rows 0 and 3 hold refreshable cells outside the
    // first range.
    struct planned {
      std::size_t row, col;
      float gp, gn;
    };
    const planned cells[] = {
        {0, 0, 9.0f, 4.0f},  // outside [1, 3): 3 pulses on Gp later
        {1, 1, 8.5f, 7.8f},  // |d| 0.7 -> 1 pulse on Gp
        {1, 2, 8.0f, 7.0f},  // max 8.0 is not above 8: kept
        {2, 0, 4.1f, 9.9f},  // |d| 5.8 -> 7.5 -> 3 pulses on Gn
        {2, 2, 9.0f, 3.0f},  // |d| 6.0 is not below 6: kept
        {3, 1, 7.5f, 8.4f},  // outside [1, 3): 1 pulse on Gn later
    };
    for (std::size_t k = 0; k < 12; ++k) {
      array->positive().program_to(k, 1.6, 0.0);
      array->negative().program_to(k, 1.2, 0.0);
    }
    for (const planned& c : cells) {
      array->positive().program_to(c.row * 3 + c.col, c.gp, 0.0);
      array->negative().program_to(c.row * 3 + c.col, c.gn, 0.0);
    }
    array->sync(0.0);
    cm_tile_config cfg;
    cfg.array.parallel_programming = parallel;
    cm_tile tile(parallel == 1 ? "tile_refresh1" : "tile_refresh3", cfg, std::move(array));
    crossbar& a = tile.devices();
    auto refresh = [&](std::size_t r0, std::size_t r1) {
      txn t(tlm::TLM_WRITE_COMMAND, cm_tile::addr_refresh, nullptr, 0, stage::update);
      t.ext.n_in = r0;
      t.ext.n_out = r1;
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      tile.b_transport(t.gp, delay);
      EXPECT_EQ(t.gp.get_response_status(), tlm::TLM_OK_RESPONSE);
      return delay;
    };
    const sc_core::sc_time ns50(50, sc_core::SC_NS);
    // Rows [1, 3): cells (1,1) and (2,0): 4 RESETs + 1 + 3 SETs = 8 pulses.
    EXPECT_EQ(refresh(1, 3), (parallel == 1 ? 8.0 : 3.0) * ns50);  // ceil(8 / 3) = 3
    EXPECT_DOUBLE_EQ(tile.array.counters().count(stage::update, crossbar_array::reset_pulse), 4.0);
    EXPECT_DOUBLE_EQ(tile.array.counters().count(stage::update, crossbar_array::set_pulse), 4.0);
    EXPECT_DOUBLE_EQ(tile.array.counters().count(stage::forward, crossbar_array::reset_pulse), 0.0);
    EXPECT_EQ(a.counters().refreshed_cells, 2u);
    EXPECT_EQ(a.positive().set_count(1 * 3 + 1), 1u);
    EXPECT_EQ(a.negative().set_count(1 * 3 + 1), 0u);
    EXPECT_EQ(a.positive().set_count(2 * 3 + 0), 0u);
    EXPECT_EQ(a.negative().set_count(2 * 3 + 0), 3u);
    for (const planned& c : {cells[0], cells[2], cells[4], cells[5]}) {
      EXPECT_EQ(a.positive().g(c.row * 3 + c.col), c.gp) << c.row << "," << c.col;
      EXPECT_EQ(a.negative().g(c.row * 3 + c.col), c.gn) << c.row << "," << c.col;
    }
    // The same rows again: nothing left to refresh, no time.
    EXPECT_EQ(refresh(1, 3), sc_core::SC_ZERO_TIME);
    EXPECT_DOUBLE_EQ(tile.array.counters().count(stage::update, crossbar_array::reset_pulse), 4.0);
    // All rows (the end is clamped to the array): (0,0) 2 + 3 and (3,1) 2 + 1.
    EXPECT_EQ(refresh(0, 100), (parallel == 1 ? 8.0 : 3.0) * ns50);
    EXPECT_DOUBLE_EQ(tile.array.counters().count(stage::update, crossbar_array::reset_pulse), 8.0);
    EXPECT_DOUBLE_EQ(tile.array.counters().count(stage::update, crossbar_array::set_pulse), 8.0);
    EXPECT_EQ(a.counters().refreshed_cells, 4u);
    EXPECT_EQ(a.positive().set_count(0), 3u);
    EXPECT_EQ(a.negative().set_count(3 * 3 + 1), 1u);
    EXPECT_EQ(tile.array.counters().busy_time(stage::update), (parallel == 1 ? 16.0 : 6.0) * ns50);
    // Energy: the ledger charges count x the table's energy per action.
    auto tech = technology::from_json_text(
        R"({"energy_pj":{"crossbar":{"set_pulse":87.0,"reset_pulse":3480.0}}})", "t.json");
    ledger led(tech);
    led.add("tile", "crossbar", "update", "reset_pulse",
            tile.array.counters().count(stage::update, crossbar_array::reset_pulse));
    led.add("tile", "crossbar", "update", "set_pulse",
            tile.array.counters().count(stage::update, crossbar_array::set_pulse));
    EXPECT_DOUBLE_EQ(led.energy_pj("update", "crossbar"), 8 * 3480.0 + 8 * 87.0);
  }
}

TEST(platform_config, clock_outside_the_kernel_time_range_is_rejected) {
  for (double mhz : {0.0, 1e-300, 1e300}) {
    platform_config pc;
    pc.tile.clock_mhz = mhz;
    try {
      pc.validate();
      FAIL() << "accepted " << mhz;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("cm_tile.clock_mhz"), std::string::npos) << e.what();
    }
  }
}

TEST(timeline, image_ranges_parse_and_reject_garbage) {
  EXPECT_EQ(parse_image_range("5:9"), (std::pair<uint64_t, uint64_t>{5, 9}));
  EXPECT_EQ(parse_image_range("7:"), (std::pair<uint64_t, uint64_t>{7, 0}));
  EXPECT_EQ(parse_image_range(":3"), (std::pair<uint64_t, uint64_t>{0, 3}));
  for (const char* bad : {"", "5", "9:5", "5:5", "a:b", "1:2x"}) {
    EXPECT_THROW(parse_image_range(bad), std::invalid_argument) << bad;
  }
}

TEST(technology, missing_entry_is_an_error_naming_component_and_action) {
  auto tech =
      technology::from_json_text(R"({"name":"t","energy_pj":{"bus":{"beat":1.5}}})", "t.json");
  EXPECT_DOUBLE_EQ(tech.energy_pj("bus", "beat"), 1.5);
  try {
    tech.energy_pj("adc_bank", "conversion");
    FAIL() << "expected technology_error";
  } catch (const technology_error& e) {
    EXPECT_NE(std::string(e.what()).find("adc_bank"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("conversion"), std::string::npos);
  }
  EXPECT_THROW(technology::from_json_text(R"({"energy_pj":{"bus":{"beat":-1}}})", "n.json"),
               technology_error);
  EXPECT_THROW(technology::from_json_text("{", "broken.json"), technology_error);
}

// SRAM energy by bank size: up to the reference the table's energy, above
// it (size / reference)^exponent times it; the rule is read, written back
// and refused with the key named when malformed. An SRAM's size is KiB per
// bank, of its capacity or else of what it holds; the ledger prices by it.
TEST(technology, sram_energy_grows_with_the_bank_beyond_the_reference) {
  const auto tech = technology::from_json_text(
      R"({"energy_pj":{"sram32":{"read_word":2.0},"bus":{"beat":1.0}},
          "energy_scaling":{"sram32":{"reference":32,"exponent":0.5}}})",
      "s.json");
  EXPECT_DOUBLE_EQ(tech.energy_pj("sram32", "read_word"), 2.0);
  EXPECT_DOUBLE_EQ(tech.energy_pj("sram32", "read_word", 32.0), 2.0);
  EXPECT_DOUBLE_EQ(tech.energy_pj("sram32", "read_word", 8.0), 2.0);
  EXPECT_DOUBLE_EQ(tech.energy_pj("sram32", "read_word", 128.0), 4.0);
  EXPECT_DOUBLE_EQ(tech.energy_pj("bus", "beat", 128.0), 1.0);  // no rule: no scaling
  EXPECT_DOUBLE_EQ(tech.as_json()["energy_scaling"]["sram32"]["exponent"].get<double>(), 0.5);
  for (const auto& [rule, key] : std::vector<std::pair<std::string, std::string>>{
           {R"({"reference":32,"exponent":0.5,"size":1})", "energy_scaling.sram32.size"},
           {R"({"exponent":0.5})", "energy_scaling.sram32.reference"},
           {R"({"reference":0,"exponent":0.5})", "energy_scaling.sram32.reference"},
           {R"({"reference":32})", "energy_scaling.sram32.exponent"}}) {
    try {
      technology::from_json_text(R"({"energy_pj":{},"energy_scaling":{"sram32":)" + rule + "}}",
                                 "r.json");
      FAIL() << "expected technology_error for " << rule;
    } catch (const technology_error& e) {
      EXPECT_NE(std::string(e.what()).find("r.json: " + key), std::string::npos) << e.what();
    }
  }
  sram_config sc;
  sc.capacity_kib = 256;
  sc.banks = 2;
  EXPECT_DOUBLE_EQ(sram("sram_scaled", sc).energy_size(), 128.0);
  sram unbounded("sram_held", sram_config{});
  unbounded.set_stored_bits(64 * 1024 * 8);
  EXPECT_DOUBLE_EQ(unbounded.energy_size(), 64.0);
  ledger l(tech);
  l.add("d.act_sram", "sram32", "forward", "read_word", 10, 128.0);
  l.add("d.weight_sram", "sram32", "forward", "read_word", 10, 16.0);
  EXPECT_DOUBLE_EQ(l.energy_pj("forward", "", "d.act_sram"), 40.0);
  EXPECT_DOUBLE_EQ(l.energy_pj("forward", "", "d.weight_sram"), 20.0);
}

// Areas per unit: read, written back, and a missing or negative entry named.
TEST(technology, area_per_unit_and_its_errors) {
  auto tech = technology::from_json_text(
      R"({"energy_pj":{"bus":{"beat":1}},"area_um2":{"crossbar":{"device":0.03}}})", "a.json");
  EXPECT_DOUBLE_EQ(tech.area_um2("crossbar", "device"), 0.03);
  EXPECT_DOUBLE_EQ(tech.as_json()["area_um2"]["crossbar"]["device"].get<double>(), 0.03);
  try {
    tech.area_um2("adc_bank", "converter");
    FAIL() << "expected technology_error";
  } catch (const technology_error& e) {
    EXPECT_NE(std::string(e.what()).find("area_um2.adc_bank.converter"), std::string::npos)
        << e.what();
  }
  try {
    technology::from_json_text(R"({"energy_pj":{},"area_um2":{"sram32":{"bit":-1}}})", "b.json");
    FAIL() << "expected technology_error";
  } catch (const technology_error& e) {
    EXPECT_NE(std::string(e.what()).find("b.json: area_um2.sram32.bit = -1"), std::string::npos)
        << e.what();
  }
  // The modules' units: devices of an array, converters of the banks.
  crossbar_array a("array_area", crossbar_array_config{}, small_array(false));
  ASSERT_EQ(a.area_units().size(), 1u);
  EXPECT_EQ(a.area_units()[0].first, "device");
  EXPECT_DOUBLE_EQ(a.area_units()[0].second, 4.0 * 3 * 2);  // 4 x 3 differential pairs
  sram_config sc;
  sc.capacity_kib = 1;
  EXPECT_DOUBLE_EQ(sram("sram_area", sc).area_units()[0].second, 8192.0);
}

TEST(ledger, energy_is_count_times_table_entry_and_filters_by_stage) {
  auto tech = technology::from_json_text(
      R"({"energy_pj":{"bus":{"beat":2.0},"adc_bank":{"conversion":10.0}}})", "t.json");
  ledger l(tech);
  l.add("mca.bus", "bus", "forward", "beat", 393);
  l.add("mca.tile0.adc", "adc_bank", "forward", "conversion", 250);
  l.add("mca.tile1.adc", "adc_bank", "backward", "conversion", 250);
  EXPECT_DOUBLE_EQ(l.energy_pj("forward"), 393 * 2.0 + 250 * 10.0);
  EXPECT_DOUBLE_EQ(l.energy_pj("", "adc_bank"), 5000.0);
  EXPECT_DOUBLE_EQ(l.energy_pj("", "", "mca.tile1"), 2500.0);
  EXPECT_DOUBLE_EQ(l.count("adc_bank", "conversion", "backward"), 250.0);
  EXPECT_THROW(l.add("mca.sram", "sram32", "update", "read_word", 1), technology_error);
  // Changing one per-action energy moves only entries using that action.
  tech.set_energy_pj("bus", "beat", 4.0);
  ledger l2(tech);
  l2.add("mca.bus", "bus", "forward", "beat", 393);
  l2.add("mca.tile0.adc", "adc_bank", "forward", "conversion", 250);
  EXPECT_DOUBLE_EQ(l2.energy_pj("", "adc_bank"), 2500.0);
  EXPECT_DOUBLE_EQ(l2.energy_pj("", "bus"), 393 * 4.0);
}

}  // namespace
}  // namespace mcasim

// libsystemc.so defines main() and calls sc_main: run the tests from there.
int sc_main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
