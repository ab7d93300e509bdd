#include "ref.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace peng::ref {

Tensor::Tensor(std::vector<int64_t> s) : shape(std::move(s)), data(size_t(size()), 0.0f) {}

int64_t Tensor::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Tensor Matmul(const Tensor& a, const Tensor& b) {
  if (a.shape.size() != 2 || b.shape.size() != 2 || a.shape[1] != b.shape[0]) {
    throw std::invalid_argument("matmul: shapes do not match");
  }
  int64_t m = a.shape[0], k = a.shape[1], n = b.shape[1];
  Tensor c({m, n});
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p) acc += double(a.data[i * k + p]) * b.data[p * n + j];
      c.data[i * n + j] = float(acc);
    }
  }
  return c;
}

Tensor BatchMatmul(const Tensor& a, const Tensor& b) {
  if (a.shape.size() != 3 || b.shape.size() != 3 || a.shape[0] != b.shape[0]) {
    throw std::invalid_argument("batch_matmul: shapes do not match");
  }
  int64_t batch = a.shape[0];
  Tensor c({batch, a.shape[1], b.shape[2]});
  int64_t sa = a.shape[1] * a.shape[2], sb = b.shape[1] * b.shape[2], sc = a.shape[1] * b.shape[2];
  for (int64_t i = 0; i < batch; ++i) {
    Tensor ai({a.shape[1], a.shape[2]}), bi({b.shape[1], b.shape[2]});
    std::copy_n(a.data.begin() + i * sa, sa, ai.data.begin());
    std::copy_n(b.data.begin() + i * sb, sb, bi.data.begin());
    Tensor ci = Matmul(ai, bi);
    std::copy_n(ci.data.begin(), sc, c.data.begin() + i * sc);
  }
  return c;
}

Tensor Binary(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f) {
  size_t rank = std::max(a.shape.size(), b.shape.size());
  auto padded = [rank](const std::vector<int64_t>& s) {
    std::vector<int64_t> p(rank - s.size(), 1);
    p.insert(p.end(), s.begin(), s.end());
    return p;
  };
  std::vector<int64_t> sa = padded(a.shape), sb = padded(b.shape), so(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (sa[d] != sb[d] && sa[d] != 1 && sb[d] != 1) {
      throw std::invalid_argument("broadcast: incompatible shapes");
    }
    so[d] = std::max(sa[d], sb[d]);
  }
  Tensor out(so);
  std::vector<int64_t> index(rank, 0);
  for (int64_t flat = 0; flat < out.size(); ++flat) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < rank; ++d) {
      ia = ia * sa[d] + (sa[d] == 1 ? 0 : index[d]);
      ib = ib * sb[d] + (sb[d] == 1 ? 0 : index[d]);
    }
    out.data[flat] = float(f(a.data[ia], b.data[ib]));
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < so[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

Tensor Unary(const Tensor& a, const std::function<double(double)>& f) {
  Tensor out(a.shape);
  for (int64_t i = 0; i < a.size(); ++i) out.data[i] = float(f(a.data[i]));
  return out;
}

double Relu(double x) { return x > 0 ? x : 0; }
double Gelu(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
double Silu(double x) { return x / (1 + std::exp(-x)); }

namespace {
// Row-major strides of a shape.
std::vector<int64_t> Strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

// Calls f(index) for every multi-index of `shape`, in row-major order.
void ForEachIndex(const std::vector<int64_t>& shape,
                  const std::function<void(const std::vector<int64_t>&)>& f) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    f(idx);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}
}  // namespace

Tensor Pad(const Tensor& x, const std::vector<int64_t>& low, const std::vector<int64_t>& high,
           double value) {
  std::vector<int64_t> shape(x.shape.size());
  for (size_t d = 0; d < shape.size(); ++d) shape[d] = low[d] + x.shape[d] + high[d];
  Tensor y(shape);
  std::vector<int64_t> ys = Strides(shape), xs = Strides(x.shape);
  ForEachIndex(shape, [&](const std::vector<int64_t>& idx) {
    int64_t yo = 0, xo = 0;
    bool inside = true;
    for (size_t d = 0; d < idx.size(); ++d) {
      yo += idx[d] * ys[d];
      int64_t src = idx[d] - low[d];
      inside &= src >= 0 && src < x.shape[d];
      xo += src * xs[d];
    }
    y.data[yo] = inside ? x.data[xo] : float(value);
  });
  return y;
}

Tensor Transpose(const Tensor& x, const std::vector<int64_t>& perm) {
  std::vector<int64_t> shape(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) shape[d] = x.shape[perm[d]];
  Tensor y(shape);
  std::vector<int64_t> ys = Strides(shape), xs = Strides(x.shape);
  ForEachIndex(shape, [&](const std::vector<int64_t>& idx) {
    int64_t yo = 0, xo = 0;
    for (size_t d = 0; d < idx.size(); ++d) {
      yo += idx[d] * ys[d];
      xo += idx[d] * xs[perm[d]];
    }
    y.data[yo] = x.data[xo];
  });
  return y;
}

Tensor Conv2dNhwc(const Tensor& x, const Tensor& w, const Tensor& bias,
                  const std::vector<int64_t>& pad, int64_t stride) {
  int64_t n = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3];
  int64_t f = w.shape[0], kh = w.shape[1], kw = w.shape[2];
  int64_t oh = (h + pad[0] + pad[1] - kh) / stride + 1, ow = (wd + pad[2] + pad[3] - kw) / stride + 1;
  Tensor y({n, oh, ow, f});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t o = 0; o < f; ++o) {
          double acc = bias.data[o];
          for (int64_t p = 0; p < kh; ++p)
            for (int64_t q = 0; q < kw; ++q) {
              int64_t yi = i * stride + p - pad[0], xj = j * stride + q - pad[2];
              if (yi < 0 || yi >= h || xj < 0 || xj >= wd) continue;
              for (int64_t ch = 0; ch < c; ++ch)
                acc += double(x.data[((b * h + yi) * wd + xj) * c + ch]) *
                       w.data[((o * kh + p) * kw + q) * c + ch];
            }
          y.data[((b * oh + i) * ow + j) * f + o] = float(acc);
        }
  return y;
}

Tensor MaxPoolNhwc(const Tensor& x, int64_t k, int64_t s) {
  int64_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
  int64_t oh = (h - k) / s + 1, ow = (w - k) / s + 1;
  Tensor y({n, oh, ow, c});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t ch = 0; ch < c; ++ch) {
          float m = -INFINITY;
          for (int64_t p = 0; p < k; ++p)
            for (int64_t q = 0; q < k; ++q)
              m = std::max(m, x.data[((b * h + i * s + p) * w + j * s + q) * c + ch]);
          y.data[((b * oh + i) * ow + j) * c + ch] = m;
        }
  return y;
}

Tensor ReduceSum(const Tensor& x, int64_t axis) {
  std::vector<int64_t> shape = x.shape;
  shape[axis] = 1;
  std::vector<double> acc(size_t(Tensor(shape).size()), 0.0);
  std::vector<int64_t> ys = Strides(shape), xs = Strides(x.shape);
  ForEachIndex(x.shape, [&](const std::vector<int64_t>& idx) {
    int64_t yo = 0, xo = 0;
    for (size_t d = 0; d < idx.size(); ++d) {
      xo += idx[d] * xs[d];
      yo += (int64_t(d) == axis ? 0 : idx[d]) * ys[d];
    }
    acc[yo] += x.data[xo];
  });
  Tensor y(shape);
  for (size_t i = 0; i < acc.size(); ++i) y.data[i] = float(acc[i]);
  return y;
}

Tensor Slice(const Tensor& x, const std::vector<int64_t>& start, const std::vector<int64_t>& size) {
  Tensor y(size);
  std::vector<int64_t> ys = Strides(size), xs = Strides(x.shape);
  ForEachIndex(size, [&](const std::vector<int64_t>& idx) {
    int64_t yo = 0, xo = 0;
    for (size_t d = 0; d < idx.size(); ++d) {
      yo += idx[d] * ys[d];
      xo += (idx[d] + start[d]) * xs[d];
    }
    y.data[yo] = x.data[xo];
  });
  return y;
}

Tensor Concat(const Tensor& a, const Tensor& b, int64_t axis) {
  std::vector<int64_t> shape = a.shape;
  shape[axis] += b.shape[axis];
  Tensor y(shape);
  std::vector<int64_t> ys = Strides(shape), as = Strides(a.shape), bs = Strides(b.shape);
  ForEachIndex(shape, [&](const std::vector<int64_t>& idx) {
    int64_t yo = 0, ao = 0, bo = 0;
    bool in_a = idx[axis] < a.shape[axis];
    for (size_t d = 0; d < idx.size(); ++d) {
      yo += idx[d] * ys[d];
      ao += idx[d] * as[d];
      bo += (int64_t(d) == axis ? idx[d] - a.shape[axis] : idx[d]) * bs[d];
    }
    y.data[yo] = in_a ? a.data[ao] : b.data[bo];
  });
  return y;
}

Tensor RowSum(const Tensor& x) {
  int64_t cols = x.shape.back(), rows = x.size() / cols;
  Tensor y(std::vector<int64_t>(x.shape.begin(), x.shape.end() - 1));
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += x.data[r * cols + c];
    y.data[r] = float(sum);
  }
  return y;
}

Tensor Softmax(const Tensor& x) {
  int64_t cols = x.shape.back(), rows = x.size() / cols;
  Tensor y(x.shape);
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = &x.data[r * cols];
    double max = in[0], sum = 0;
    for (int64_t c = 0; c < cols; ++c) max = std::max<double>(max, in[c]);
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(in[c] - max);
    for (int64_t c = 0; c < cols; ++c) y.data[r * cols + c] = float(std::exp(in[c] - max) / sum);
  }
  return y;
}

Tensor LayerNorm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  int64_t cols = x.shape.back(), rows = x.size() / cols;
  Tensor y(x.shape);
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = &x.data[r * cols];
    double mean = 0, var = 0;
    for (int64_t c = 0; c < cols; ++c) mean += in[c];
    mean /= double(cols);
    for (int64_t c = 0; c < cols; ++c) var += (in[c] - mean) * (in[c] - mean);
    var /= double(cols);
    for (int64_t c = 0; c < cols; ++c) {
      y.data[r * cols + c] = float((in[c] - mean) / std::sqrt(var + eps) * gamma.data[c] + beta.data[c]);
    }
  }
  return y;
}

}  // namespace peng::ref
