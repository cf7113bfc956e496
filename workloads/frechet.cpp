#include "workloads/frechet.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mcasim {

namespace {

struct moments {
  Eigen::VectorXd mean;
  Eigen::MatrixXd cov;
};

moments gaussian(const float* x, std::size_t n, std::size_t d) {
  if (n < 2) {
    throw std::invalid_argument("frechet_distance: a set of " + std::to_string(n) +
                                " vectors has no covariance (needs 2 or more)");
  }
  const Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> m(
      x, static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
  const Eigen::MatrixXd v = m.cast<double>();
  moments g;
  g.mean = v.colwise().mean().transpose();
  const Eigen::MatrixXd c = v.rowwise() - g.mean.transpose();
  g.cov = (c.transpose() * c) / static_cast<double>(n - 1);
  return g;
}

// The square root of a covariance: its eigenvalues clamped at 0 first. A
// feature that never changes (a ReLU unit that never fires) leaves eigenvalues
// of 0 that rounding can make slightly negative; their square roots would be
// NaN and poison the whole product below.
Eigen::MatrixXd psd_sqrt(const Eigen::MatrixXd& c) {
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> e(c);
  const Eigen::VectorXd r = e.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  return e.eigenvectors() * r.asDiagonal() * e.eigenvectors().transpose();
}

}  // namespace

double frechet_distance(const float* a, std::size_t na, const float* b, std::size_t nb,
                        std::size_t d) {
  if (d == 0) throw std::invalid_argument("frechet_distance: vectors of 0 values");
  const moments ga = gaussian(a, na, d), gb = gaussian(b, nb, d);
  if (!ga.cov.allFinite() || !gb.cov.allFinite()) {
    throw std::invalid_argument(
        "frechet_distance: a feature vector holds a value that is not finite");
  }
  const Eigen::MatrixXd s = psd_sqrt(ga.cov);
  const Eigen::MatrixXd m = s * gb.cov * s;
  // Symmetric up to rounding; its eigenvalues are those of C_a C_b (>= 0).
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> em(0.5 * (m + m.transpose()),
                                                          Eigen::EigenvaluesOnly);
  const double tr_sqrt = em.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
  const double fd =
      (ga.mean - gb.mean).squaredNorm() + ga.cov.trace() + gb.cov.trace() - 2.0 * tr_sqrt;
  return std::max(0.0, fd);
}

}  // namespace mcasim
