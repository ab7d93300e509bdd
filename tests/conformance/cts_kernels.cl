// The conformance suite's kernels for the opencl backend: the contract of
// cts_kernels.h, in OpenCL C and the backend's argument convention
// (backends/opencl/runtime/opencl_backend.h): the buffers, then the constants
// (long), then each buffer's dimensions (long), buffers in order. Every entry
// runs in work-groups of one work-item, so a work-group id is the CPU
// kernels' workgroup_id. Embedded at build time (cts_kernel_images.cpp).
//
// OpenCL C has no way to fail a launch, so where a C kernel returns non-zero
// these leave a mark the test sees instead (a wrong tag or count).

#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable

uint cts_workgroup_tag(uint x, uint y, uint z) { return 0x80000000u | (z << 20) | (y << 10) | x; }

// One tag and one count per work-group, as cts_write_workgroup_ids; both
// buffers are rank-1 tensors of bytes (the HAL tests' convention). A
// work-group that finds the grid other than the constants say writes tag 0.
__kernel void cts_write_workgroup_ids(__global uint* ids, __global uint* counts, long nx, long ny,
                                      long nz, long ids_bytes, long counts_bytes) {
  size_t x = get_group_id(0), y = get_group_id(1), z = get_group_id(2);
  size_t flat = x + get_num_groups(0) * (y + get_num_groups(1) * z);
  if ((long)((flat + 1) * sizeof(uint)) > ids_bytes ||
      (long)((flat + 1) * sizeof(uint)) > counts_bytes) {
    return;  // out of range: the count the test expects stays 0
  }
  bool grid_ok = (long)get_num_groups(0) == nx && (long)get_num_groups(1) == ny &&
                 (long)get_num_groups(2) == nz;
  ids[flat] = grid_ok ? cts_workgroup_tag((uint)x, (uint)y, (uint)z) : 0u;
  atomic_inc(&counts[flat]);
}

// The same over rank-3 int32 tensors of nx x ny x nz (the runtime tests).
__kernel void cts_write_workgroup_ids_3d(__global uint* ids, __global uint* counts, long nx,
                                         long ny, long nz, long ids_x, long ids_y, long ids_z,
                                         long counts_x, long counts_y, long counts_z) {
  size_t x = get_group_id(0), y = get_group_id(1), z = get_group_id(2);
  if ((long)x >= ids_x || (long)y >= ids_y || (long)z >= ids_z) return;
  size_t flat = x + get_num_groups(0) * (y + get_num_groups(1) * z);
  bool grid_ok = (long)get_num_groups(0) == nx && (long)get_num_groups(1) == ny &&
                 (long)get_num_groups(2) == nz && counts_x == ids_x && counts_y == ids_y &&
                 counts_z == ids_z;
  ids[flat] = grid_ok ? cts_workgroup_tag((uint)x, (uint)y, (uint)z) : 0u;
  atomic_inc(&counts[flat]);
}

// Adds 1 to the uint64 counter; launches on one queue may run at once.
__kernel void cts_increment(__global ulong* counter, long counter_bytes) {
  if (counter_bytes >= 8) atom_inc(counter);
}

// Spins until the int at host address `flag` is non-zero. Only for devices
// that share the host's address space (cts_kernel_images.cpp says which).
__kernel void cts_spin_until_flag(long flag) {
  volatile __global int* p = (volatile __global int*)(ulong)flag;
  while (*p == 0) {
  }
}

// bytes[i] = bytes[i] * 3 + 1, `tile` elements per work-group.
__kernel void cts_scale_bytes(__global uchar* bytes, long tile, long n) {
  long begin = (long)get_group_id(0) * tile;
  long end = min(begin + tile, n);
  for (long i = begin; i < end; ++i) bytes[i] = (uchar)(bytes[i] * 3 + 1);
}

// marker[0] = value.
__kernel void cts_mark(__global int* marker, long value, long marker_n) {
  if (marker_n >= 1) marker[0] = (int)value;
}
