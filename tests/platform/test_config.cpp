// The configuration tree: defaults, --config / --set overrides, strict errors
// naming the key path and value, and repeatability from overrides.json.
#include <gtest/gtest.h>

#include <fstream>

#include "../test_util.h"
#include "platform/config.h"

namespace mcasim {
namespace {

run_config base(const char* preset = "mca") {
  return run_config{make_experiment(preset), platform_config(),
                    technology::load(std::string(MCASIM_SOURCE_DIR) + "/power/tech_14lpp.json")};
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
  EXPECT_DOUBLE_EQ(tree["technology"]["energy_pj"]["cm_tile"]["device_read"].get<double>(), 0.0119);
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

}  // namespace
}  // namespace mcasim
