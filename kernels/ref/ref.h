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

// Pads each dimension d with low[d] and high[d] elements of `value`.
Tensor Pad(const Tensor& x, const std::vector<int64_t>& low, const std::vector<int64_t>& high,
           double value);

// y.shape[i] = x.shape[perm[i]].
Tensor Transpose(const Tensor& x, const std::vector<int64_t>& perm);

// 2-D convolution, dilation 1: x [N,H,W,C], w [F,KH,KW,C] (TOSA's OHWI),
// bias [F], zero padding {top, bottom, left, right}; y [N,OH,OW,F].
Tensor Conv2dNhwc(const Tensor& x, const Tensor& w, const Tensor& bias,
                  const std::vector<int64_t>& pad, int64_t stride = 1);

// Max pooling over k x k windows with stride s, no padding: [N,H,W,C].
Tensor MaxPoolNhwc(const Tensor& x, int64_t k, int64_t s);

// Sum over one axis, kept with extent 1 (TOSA's reduce_sum).
Tensor ReduceSum(const Tensor& x, int64_t axis);

// x[start[d] : start[d] + size[d]] in each dimension.
Tensor Slice(const Tensor& x, const std::vector<int64_t>& start, const std::vector<int64_t>& size);

// a and b joined along `axis`.
Tensor Concat(const Tensor& a, const Tensor& b, int64_t axis);

// Sums over the last dimension: [..., n] -> [...].
Tensor RowSum(const Tensor& x);

// Over the last dimension.
Tensor Softmax(const Tensor& x);
Tensor LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps);

}  // namespace peng::ref
