// The Frechet distance between two sets of feature vectors, each taken as a
// Gaussian of its mean and covariance (Heusel et al. 2017):
//
//   FD = |mu_a - mu_b|^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2))
//
// Tr (C_a C_b)^(1/2) is computed as Tr (S C_b S)^(1/2) with S = C_a^(1/2)
// (the same eigenvalues, and a symmetric matrix): Eigen's self-adjoint
// eigensolver gives both square roots.
#pragma once

#include <cstddef>

namespace mcasim {

// a: na vectors of d values, b: nb vectors of d values (row-major); the
// covariances are unbiased (n - 1). Throws std::invalid_argument for fewer
// than 2 vectors in a set or d = 0.
double frechet_distance(const float* a, std::size_t na, const float* b, std::size_t nb,
                        std::size_t d);

}  // namespace mcasim
