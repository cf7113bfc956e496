// The configuration tree: defaults, --config / --set overrides, strict errors
// naming the key path and value, and repeatability from overrides.json.
#include <gtest/gtest.h>

#include <fstream>

#include "../test_util.h"
#include "app/config.h"

namespace mcasim {
namespace {

run_config base(const char* preset = "mca") {
  return run_config{make_experiment(preset),
                    platform_config(),
                    technology::load(std::string(MCASIM_SOURCE_DIR) + "/power/tech_14lpp.json"),
                    {}};
}

std::string error_of(const overrides& o) {
  try {
    apply(base(), o);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

TEST(config, tree_holds_every_layer_with_the_paper_defaults) {
  const auto tree = to_tree(base());
  EXPECT_DOUBLE_EQ(tree["experiment"]["mca"]["chi"]["eps_p"].get<double>(), 0.096);
  EXPECT_DOUBLE_EQ(tree["experiment"]["mca"]["pcm"]["drift_t0_s"].get<double>(), 38.6);
  EXPECT_EQ(tree["platform"]["bus"]["width_bits"].get<int>(), 16);
  EXPECT_DOUBLE_EQ(tree["platform"]["tile"]["clock_mhz"].get<double>(), 2000.0);
  EXPECT_DOUBLE_EQ(tree["technology"]["energy_pj"]["crossbar"]["device_read"].get<double>(),
                   0.0119);
}

TEST(config, set_and_config_file_override_in_order) {
  test::temp_dir dir;
  const std::string file = dir.file("c.json");
  std::ofstream(file)
      << R"({"experiment": {"mca": {"pcm": {"nu": 0.06}}}, "platform": {"bus": {"width_bits": 32}}})";
  overrides o;
  o.files = {file};
  o.sets = {"experiment.mca.pcm.nu=0.07", "technology.energy_pj.bus.beat=5.5",
            "experiment.mca.crossbar.synapse=single_ref"};
  const run_config rc = apply(base(), o);
  EXPECT_DOUBLE_EQ(rc.experiment.mca.pcm.nu, 0.07);  // --set after --config
  EXPECT_EQ(rc.platform.bus.width_bits, 32);
  EXPECT_DOUBLE_EQ(rc.tech.energy_pj("bus", "beat"), 5.5);
  EXPECT_EQ(rc.experiment.mca.crossbar.synapse, synapse_kind::single_ref);
  // The merged patch repeats the run: applying it alone gives the same tree.
  overrides again;
  const std::string patch = dir.file("overrides.json");
  std::ofstream(patch) << overrides_patch(o).dump();
  again.files = {patch};
  EXPECT_EQ(to_tree(apply(base(), again)), to_tree(rc));
}

// A weight layer's own numerics: set, set back to empty (the run's), and
// written only when set, so a run in one numerics keeps its configuration's
// form; a tree with layers read back takes a numerics again.
TEST(config, a_layers_numerics_is_optional_and_written_only_when_set) {
  overrides o;
  o.sets = {"training.layers.fc.weight_std=0.01", "training.layers.fc.numerics=fp32",
            "training.layers.c1.numerics=mca"};
  run_config rc = apply(base(), o);
  EXPECT_EQ(rc.training.layers.at("fc").numerics, "fp32");
  EXPECT_EQ(rc.training.layers.at("c1").numerics, "mca");
  o.sets.push_back("training.layers.fc.numerics=");
  rc = apply(base(), o);
  EXPECT_EQ(rc.training.layers.at("fc").numerics, "");
  EXPECT_DOUBLE_EQ(rc.training.layers.at("fc").weight_std, 0.01);
  const auto tree = to_tree(rc);
  EXPECT_FALSE(tree["training"]["layers"]["fc"].contains("numerics"));
  EXPECT_EQ(tree["training"]["layers"]["c1"]["numerics"], "mca");
  overrides again;
  again.sets = {"training.layers.fc.numerics=digital-mp"};
  EXPECT_EQ(apply(rc, again).training.layers.at("fc").numerics, "digital-mp");
  again.sets = {"training.layers.fc.numerics=analog"};
  try {
    apply(rc, again);
    FAIL() << "an unknown numerics was accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("training.layers.fc.numerics"), std::string::npos)
        << e.what();
  }
}

TEST(config, errors_name_the_key_path_the_value_and_what_is_allowed) {
  auto err = [](std::initializer_list<std::string> sets) {
    overrides o;
    o.sets = sets;
    return error_of(o);
  };
  EXPECT_NE(err({"experiment.mca.chi.epsp=1"}).find("unknown key 'experiment.mca.chi.epsp'"),
            std::string::npos);
  EXPECT_NE(err({"experiment.mca.chi.epsp=1"}).find("eps_p"), std::string::npos);  // known keys
  EXPECT_NE(err({"experiment.mca.chi.eps_p=abc"}).find("must be a number"), std::string::npos);
  EXPECT_NE(err({"experiment.mlp.hidden=2.5"}).find("must be an integer"), std::string::npos);
  EXPECT_NE(err({"experiment.mca.pcm.nu=1.5"}).find("nu"), std::string::npos);
  EXPECT_NE(err({"experiment.mca.crossbar.synapse=triple"}).find("differential, single_ref"),
            std::string::npos);
  EXPECT_NE(err({"platform.bus.width_bits=0"}).find("bus.width_bits"), std::string::npos);
  EXPECT_NE(err({"technology.energy_pj.bus.beat=-3"}).find("bus.beat"), std::string::npos);
  EXPECT_NE(err({"experiment.mca=3"}).find("experiment.mca"), std::string::npos);
  EXPECT_NE(err({"novalue"}).find("key.path=value"), std::string::npos);
  EXPECT_NE(err({"experiment.mca.weight_range_schedule=[0.5,\"x\"]"}).find("every element"),
            std::string::npos);
  overrides missing;
  missing.files = {"/nonexistent/c.json"};
  EXPECT_NE(error_of(missing).find("/nonexistent/c.json"), std::string::npos);
}

std::string set_error(const std::string& set) {
  overrides o;
  o.sets = {set};
  return error_of(o);
}

std::string file_error(const test::temp_dir& dir, const std::string& text) {
  const std::string file = dir.file("c.json");
  std::ofstream(file) << text;
  overrides o;
  o.files = {file};
  return error_of(o);
}

// Each of these once escaped as another exception, crashed, hung or ran
// with another value than the one given (tests/fuzz/regressions/fuzz_config).
TEST(config, hostile_values_are_config_errors_naming_the_key) {
  // A number beyond a double: nlohmann's out_of_range escaped.
  EXPECT_NE(set_error("experiment.mlp.learning_rate=1e999").find("unusable number"),
            std::string::npos);
  test::temp_dir dir;
  EXPECT_NE(file_error(dir, R"({"experiment": {"mlp": {"learning_rate": -1e999}}})")
                .find("unusable number"),
            std::string::npos);
  // Invalid UTF-8 in a bare-word value: dump() threw type_error.
  EXPECT_NE(set_error("experiment.mca.crossbar.synapse=single\xec_ref").find("not valid UTF-8"),
            std::string::npos);
  // A leading dot looped for ever, nesting the patch until the stack ran out.
  EXPECT_NE(set_error(".experiment.mlp.hidden=3").find("empty key"), std::string::npos);
  EXPECT_NE(set_error("experiment..mlp=3").find("empty key"), std::string::npos);
  EXPECT_NE(set_error("experiment.mlp.=3").find("empty key"), std::string::npos);
  // 1e300 for an integer: undefined behaviour converting it to long long.
  EXPECT_NE(set_error("experiment.mlp.hidden=1e300")
                .find("experiment.mlp.hidden = 1e+300: "
                      "out of range for an integer"),
            std::string::npos);
  // -1 for a count read back as 18446744073709551615.
  EXPECT_NE(set_error("experiment.mlp.hidden=-1").find("experiment.mlp.hidden = -1: must be >= 0"),
            std::string::npos);
  // 2^32 + 1 bus bits read back as 1.
  EXPECT_NE(set_error("platform.bus.width_bits=4294967297")
                .find("platform.bus.width_bits = 4294967297: out of range for this parameter"),
            std::string::npos);
  // 10^12 hidden neurons validated, then allocated.
  EXPECT_NE(set_error("experiment.mlp.hidden=1e12").find("synapses; at most 1e+08"),
            std::string::npos);
  // NaN and Inf are not JSON: bare words, so strings where a number belongs.
  EXPECT_NE(set_error("experiment.mlp.learning_rate=nan").find("must be a number"),
            std::string::npos);
  EXPECT_NE(set_error("experiment.mca.pcm.nu=-Infinity").find("must be a number (JSON has no NaN"),
            std::string::npos);
}

TEST(config, whole_numbers_with_a_fraction_or_exponent_are_integers) {
  overrides o;
  o.sets = {"experiment.mlp.hidden=1e2", "platform.bus.width_bits=32.0"};
  const run_config rc = apply(base(), o);
  EXPECT_EQ(rc.experiment.mlp.hidden, 100u);
  EXPECT_EQ(rc.platform.bus.width_bits, 32);
  EXPECT_TRUE(to_tree(rc)["experiment"]["mlp"]["hidden"].is_number_integer());
}

TEST(config, deep_nesting_and_directories_are_refused) {
  test::temp_dir dir;
  // Copying 30,000 nested lists overflowed the stack.
  const std::string deep = std::string(30000, '[') + std::string(30000, ']');
  EXPECT_NE(file_error(dir, R"({"technology": {"energy_pj": {"x": )" + deep + "}}}")
                .find("nested deeper than 64 levels"),
            std::string::npos);
  EXPECT_NE(set_error("technology.energy_pj.x=" + deep).find("nested deeper"), std::string::npos);
  overrides o;
  o.files = {dir.path().string()};
  EXPECT_NE(error_of(o).find("is a directory"), std::string::npos);
  // Errors in a file name the file.
  EXPECT_NE(file_error(dir, "[1, 2]")
                .find(dir.file("c.json") + ": configuration = [1,2]: must be "
                                           "an object"),
            std::string::npos);
  EXPECT_NE(file_error(dir, R"({"experiment": {"mlpp": 1}})")
                .find(dir.file("c.json") + ": unknown key 'experiment.mlpp'"),
            std::string::npos);
}

TEST(config, long_values_are_shortened_in_messages) {
  const std::string msg = set_error("experiment.mlp.hidden=\"" + std::string(5000, 'x') + "\"");
  EXPECT_NE(msg.find("must be an integer"), std::string::npos);
  EXPECT_LT(msg.size(), 400u) << msg;
}

}  // namespace
}  // namespace mcasim
