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

}  // namespace

double frechet_distance(const float* a, std::size_t na, const float* b, std::size_t nb,
                        std::size_t d) {
  if (d == 0) throw std::invalid_argument("frechet_distance: vectors of 0 values");
  const moments ga = gaussian(a, na, d), gb = gaussian(b, nb, d);
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ea(ga.cov);
  const Eigen::MatrixXd s = ea.operatorSqrt();
  const Eigen::MatrixXd m = s * gb.cov * s;
  // Symmetric up to rounding; its eigenvalues are those of C_a C_b (>= 0).
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> em(0.5 * (m + m.transpose()),
                                                          Eigen::EigenvaluesOnly);
  double tr_sqrt = 0.0;
  for (Eigen::Index k = 0; k < em.eigenvalues().size(); ++k) {
    tr_sqrt += std::sqrt(std::max(0.0, em.eigenvalues()[k]));
  }
  const double fd =
      (ga.mean - gb.mean).squaredNorm() + ga.cov.trace() + gb.cov.trace() - 2.0 * tr_sqrt;
  return std::max(0.0, fd);
}

}  // namespace mcasim
