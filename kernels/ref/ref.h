// Plain C++ reference implementations of the kernels in kernels/, for the
// end-to-end tests. Written for clarity, not speed: double accumulation, the
// textbook formulas, NumPy broadcasting.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace peng::ref {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> s);
  int64_t size() const;
};

// C[M,N] = A[M,K] B[K,N]; batch_matmul over a leading batch dimension.
Tensor Matmul(const Tensor& a, const Tensor& b);
Tensor BatchMatmul(const Tensor& a, const Tensor& b);

// NumPy broadcasting of a and b to their common shape, then f elementwise.
Tensor Binary(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f);
Tensor Unary(const Tensor& a, const std::function<double(double)>& f);

double Relu(double x);
double Gelu(double x);  // exact: x/2 (1 + erf(x / sqrt 2))
double Silu(double x);

// Over the last dimension.
Tensor Softmax(const Tensor& x);
Tensor LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps);

}  // namespace peng::ref
