#include "app/sweep_mpi.h"

#include <mpi.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "util/io.h"

namespace mcasim {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void send_string(const std::string& s, int to) {
  MPI_Send(s.data(), static_cast<int>(s.size()), MPI_CHAR, to, 0, MPI_COMM_WORLD);
}

std::string recv_string(int* from) {
  MPI_Status st;
  MPI_Probe(MPI_ANY_SOURCE, 0, MPI_COMM_WORLD, &st);
  int n = 0;
  MPI_Get_count(&st, MPI_CHAR, &n);
  std::string s(static_cast<std::size_t>(n), '\0');
  MPI_Recv(s.data(), n, MPI_CHAR, st.MPI_SOURCE, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  *from = st.MPI_SOURCE;
  return s;
}

}  // namespace

bool launched_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr ||
         std::getenv("PMIX_RANK") != nullptr;
}

int run_sweep_mpi(const sweep_spec& spec, sweep_options opt, int* argc, char*** argv,
                  bool* is_root) {
  MPI_Init(argc, argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  *is_root = rank == 0;
  opt.stride = size;
  opt.offset = rank;
  // Rank 0 knows what is done (its directory is the one that gathers).
  std::vector<char> done(spec.points.size(), 0);
  if (rank == 0) {
    for (std::size_t i = 0; i < spec.points.size(); ++i) {
      done[i] = fs::exists(opt.out_dir + "/points/" + spec.points[i].id + "/done") ? 1 : 0;
    }
  }
  MPI_Bcast(done.data(), static_cast<int>(done.size()), MPI_CHAR, 0, MPI_COMM_WORLD);
  opt.known_done = done;
  const int failed_here = run_sweep(spec, opt);

  // Every rank > 0 sends the files of the points it finished, then "end".
  if (rank > 0) {
    for (std::size_t i = 0; i < spec.points.size(); ++i) {
      if (static_cast<int>(i % size) != rank || done[i]) continue;
      const std::string dir = opt.out_dir + "/points/" + spec.points[i].id;
      if (!fs::exists(dir + "/done")) continue;
      // Result files of any content (CBOR binary strings); a training point's
      // checkpoint is working state of this rank and stays here.
      nlohmann::json msg{{"id", spec.points[i].id}, {"files", nlohmann::json::object()}};
      for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (!entry.is_regular_file() || name == "checkpoint.bin") continue;
        const std::string bytes = slurp(entry.path().string());
        msg["files"][name] =
            nlohmann::json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
      }
      const std::vector<std::uint8_t> cbor = nlohmann::json::to_cbor(msg);
      send_string(std::string(cbor.begin(), cbor.end()), 0);
    }
    send_string("end", 0);
  } else {
    int ends = 0;
    while (ends < size - 1) {
      int from = 0;
      const std::string s = recv_string(&from);
      if (s == "end") {
        ++ends;
        continue;
      }
      const auto msg = nlohmann::json::from_cbor(s);
      const std::string dir = opt.out_dir + "/points/" + msg["id"].get<std::string>();
      ensure_directory(dir);
      for (auto it = msg["files"].begin(); it != msg["files"].end(); ++it) {
        if (it.key() == "done") continue;  // written last: the point is complete here
        const auto& bytes = it.value().get_binary();
        write_file_atomic(dir + "/" + it.key(), std::string(bytes.begin(), bytes.end()));
      }
      write_file_atomic(dir + "/done", "ok\n");
    }
  }
  int failed = 0;
  MPI_Reduce(&failed_here, &failed, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
  if (rank == 0) collect_sweep(spec, opt.out_dir);
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Finalize();
  return rank == 0 ? failed : 0;
}

}  // namespace mcasim
