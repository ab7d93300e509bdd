// Kernels for the opencl backend's tests, in the backend's argument
// convention (opencl_backend.h): the buffers, then the constants (long), then
// each buffer's dimensions (long), buffers in order.

// c[i] = a[i] * scale + b[i] + bias.
__kernel void axpb(__global const float* a, __global const float* b, __global float* c,
                   long scale, long bias, long a_n, long b_n, long c_n) {
  long i = get_global_id(0);
  if (i >= c_n) return;  // the grid rounds up to whole work-groups
  c[i] = a[i] * (float)scale + b[i] + (float)bias;
}

// out[c][r] = in[r][c] * scale, for in of rows x cols; x runs along in's rows.
__kernel void transpose_scale(__global const float* in, __global float* out, long scale,
                              long in_rows, long in_cols, long out_rows, long out_cols) {
  long c = get_global_id(0), r = get_global_id(1);
  if (r >= in_rows || c >= in_cols) return;
  out[c * out_cols + r] = in[r * in_cols + c] * (float)scale;
}

// A slow producer for the ordering test: `rounds` steps of a linear
// congruential generator per item, seeded with the item's index.
__kernel void lcg_fill(__global uint* out, long rounds, long n) {
  long i = get_global_id(0);
  if (i >= n) return;
  uint h = (uint)i;
  for (long r = 0; r < rounds; ++r) h = h * 1664525u + 1013904223u;
  out[i] = h;
}

// out[i] = in[i] ^ key: reads what lcg_fill wrote.
__kernel void xor_key(__global const uint* in, __global uint* out, long key, long in_n,
                      long out_n) {
  long i = get_global_id(0);
  if (i >= out_n) return;
  out[i] = in[i] ^ (uint)key;
}

// data[i] *= 2, and where[0] = the address the kernel sees data at: on a CPU
// device that works in host memory, the host's address of the same bytes.
__kernel void double_and_locate(__global uint* data, __global ulong* where, long data_n,
                                long where_n) {
  long i = get_global_id(0);
  if (i == 0 && where_n >= 1) where[0] = (ulong)data;
  if (i < data_n) data[i] *= 2;
}
