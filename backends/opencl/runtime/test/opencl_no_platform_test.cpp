// A machine without OpenCL: OCL_ICD_VENDORS names an empty folder, so the ICD
// loader finds no platform. The backend then enumerates zero devices without
// an error, the default runtime starts, and a profile that names an opencl
// device fails with a message that says why.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "peng/hal.h"
#include "peng/peng.h"

extern "C" const peng_hal_factory_t* peng_backend_opencl_factory(void);

namespace {

// Before the first OpenCL call of the process: the loader reads it once.
void NoVendors() {
  std::string dir = testing::TempDir() + "peng_no_opencl_vendors";
  mkdir(dir.c_str(), 0700);
  setenv("OCL_ICD_VENDORS", dir.c_str(), 1);
}

TEST(OpenClNoPlatform, EnumeratesZeroDevicesAndTheRuntimeStarts) {
  NoVendors();
  uint32_t count = 99;
  EXPECT_EQ(peng_backend_opencl_factory()->enumerate(&count), PENG_OK);
  EXPECT_EQ(count, 0u);
  peng_runtime_t rt;
  ASSERT_EQ(peng_runtime_create(nullptr, &rt), PENG_OK) << peng_last_error_message();
  uint32_t devices = 0;
  ASSERT_EQ(peng_runtime_device_count(rt, &devices), PENG_OK);
  EXPECT_EQ(devices, 1u);  // cpu0
  peng_runtime_release(rt);
}

TEST(OpenClNoPlatform, ProfileNamingAnOpenClDeviceSaysWhy) {
  NoVendors();
  peng_runtime_options_t o;
  peng_runtime_options_init(&o);
  o.platform_path = PENG_SOURCE_DIR "/platforms/dev-opencl.toml";
  peng_runtime_t rt;
  EXPECT_EQ(peng_runtime_create(&o, &rt), PENG_ERROR_NOT_FOUND);
  std::string message = peng_last_error_message();
  EXPECT_NE(message.find("there is no OpenCL device 0"), std::string::npos) << message;
  EXPECT_NE(message.find("OCL_ICD_VENDORS="), std::string::npos) << message;
}

// `optional = true`: the device is absent, with the same reason, and the
// runtime starts with the rest.
TEST(OpenClNoPlatform, OptionalDeviceIsAbsentAndTheRuntimeStarts) {
  NoVendors();
  std::string path = testing::TempDir() + "peng_optional_opencl.toml";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_TRUE(f);
    std::fputs("[[device]]\nname = \"cpu0\"\nbackend = \"cpu\"\n"
               "[[device]]\nname = \"opencl:0\"\nbackend = \"opencl\"\noptional = true\n"
               "memory = \"discrete\"\n",
               f);
    std::fclose(f);
  }
  peng_runtime_options_t o;
  peng_runtime_options_init(&o);
  o.platform_path = path.c_str();
  peng_runtime_t rt;
  ASSERT_EQ(peng_runtime_create(&o, &rt), PENG_OK) << peng_last_error_message();
  uint32_t devices = 0, absent = 0;
  ASSERT_EQ(peng_runtime_device_count(rt, &devices), PENG_OK);
  EXPECT_EQ(devices, 1u);
  ASSERT_EQ(peng_runtime_absent_device_count(rt, &absent), PENG_OK);
  ASSERT_EQ(absent, 1u);
  const char* name = nullptr;
  const char* reason = nullptr;
  ASSERT_EQ(peng_runtime_absent_device(rt, 0, &name, &reason), PENG_OK);
  EXPECT_STREQ(name, "opencl:0");
  EXPECT_NE(std::string(reason).find("there is no OpenCL device 0"), std::string::npos) << reason;
  peng_runtime_release(rt);
  std::remove(path.c_str());
}

}  // namespace
